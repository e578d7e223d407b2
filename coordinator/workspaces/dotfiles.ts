/**
 * The dotfiles settings of `workspaces/up` (VS Code's `vendetta.dotfiles.*`, the CLI's `--dotfiles`
 * flags), checked and made into what the node's `git clone` takes: GitHub's `owner/repo` shorthand
 * (as Dev Containers takes it) becomes its https URL; a URL or an absolute path on the node stays.
 */
import type { DotfilesSpec } from '../../agent/protocol';
import { quote } from '../daemon/validate';
import { VendettaError } from '../errors';

const GITHUB_SHORT = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const URL_FORMS = /^(?:(?:https?|ssh|git|file):\/\/\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+|\/\S.*)$/;
const hasControl = (v: string) => [...v].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127);

function invalid(what: string, hint: string): VendettaError {
  return new VendettaError('INVALID_PARAMS', `Invalid dotfiles setting: ${what}`, { hint });
}

function text(v: unknown, key: string, max: number, hint: string): string {
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max || hasControl(v))
    throw invalid(`${key} must be one line of 1 to ${max} characters`, hint);
  return v.trim();
}

/** The repository as the node clones it. */
export function dotfilesRepository(v: unknown): string {
  const hint =
    'Give a git URL the node can reach (https://…, ssh://…, git@host:path, file:///path), an absolute path on the node, or GitHub’s owner/repo.';
  const repo = text(v, 'repository', 2048, hint);
  if (GITHUB_SHORT.test(repo)) return `https://github.com/${repo}${repo.endsWith('.git') ? '' : '.git'}`;
  if (!URL_FORMS.test(repo)) throw invalid(`${quote(repo)} is not a repository git can clone`, hint);
  return repo;
}

/** Empty settings (VS Code's default is "") mean none; a repository is needed for the rest to matter. */
export function parseDotfiles(raw: unknown): DotfilesSpec | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw invalid('expected {repository, installCommand?, targetPath?}', 'Send the dotfiles as an object.');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['repository', 'installCommand', 'targetPath'].includes(k))
      throw invalid(`unknown field ${quote(k)}`, 'The fields are repository, installCommand and targetPath.');
  const empty = (x: unknown) => x === undefined || x === '';
  if (empty(o.repository)) return undefined;
  const out: DotfilesSpec = { repository: dotfilesRepository(o.repository) };
  if (!empty(o.installCommand))
    out.installCommand = text(
      o.installCommand,
      'installCommand',
      1024,
      'Name the script to run, relative to the repository (e.g. install.sh), or leave it empty to search for one.',
    );
  if (!empty(o.targetPath)) {
    const hint = 'Give ~/dotfiles, another folder under ~, or an absolute path inside the workspace.';
    const t = text(o.targetPath, 'targetPath', 1024, hint);
    if (!(t === '~' || t.startsWith('~/') || t.startsWith('/')))
      throw invalid(`targetPath ${quote(t)} is neither under ~ nor absolute`, hint);
    out.targetPath = t;
  }
  return out;
}
