/**
 * `workspaces/create`'s `dotfiles`, checked at the boundary: they reach `git clone` on the node as
 * one argv entry after `--`, and the workspace's sh as "$1"-style data, never as shell text.
 */
import { AgentError } from '../errors';
import type { DotfilesSpec } from '../protocol';

function invalid(what: string): AgentError {
  return new AgentError('INVALID_PARAMS', `Invalid params for workspaces/create: ${what}`, {
    hint: 'Fix the dotfiles settings (vendetta.dotfiles.* in VS Code, --dotfiles on the CLI); the agent changed nothing.',
  });
}

/** One line of 1 to `max` characters. */
function line(v: unknown, key: string, max: number): string {
  if (
    typeof v !== 'string' ||
    v.length === 0 ||
    v.length > max ||
    [...v].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)
  )
    throw invalid(`dotfiles.${key} must be one line of 1 to ${max} characters`);
  return v;
}

export function validDotfiles(v: unknown): DotfilesSpec {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw invalid('dotfiles must be an object {repository, installCommand?, targetPath?}');
  const o = v as Record<string, unknown>;
  const repository = line(o.repository, 'repository', 2048);
  // git would read a leading dash as one of its options.
  if (repository.startsWith('-')) throw invalid('dotfiles.repository must not start with "-"');
  const out: DotfilesSpec = { repository };
  if (o.installCommand !== undefined) out.installCommand = line(o.installCommand, 'installCommand', 1024);
  if (o.targetPath !== undefined) {
    const t = line(o.targetPath, 'targetPath', 1024);
    if (!(t === '~' || t.startsWith('~/') || t.startsWith('/')))
      throw invalid('dotfiles.targetPath must be ~, ~/… or an absolute path');
    out.targetPath = t;
  }
  return out;
}
