/**
 * Workspace names and the SSH alias that names a workspace on a node: `<workspace>.<node>.vendetta`.
 * The alias is what OpenSSH passes to the ProxyCommand as %h, so it is parsed as untrusted input.
 */
import { NAME_PATTERN } from '../../agent/protocol';
import { nodeName, quote } from '../daemon/validate';
import { VendettaError } from '../errors';

export const ALIAS_SUFFIX = '.vendetta';

export function workspaceName(v: unknown, field = 'name'): string {
  if (typeof v !== 'string' || !NAME_PATTERN.test(v)) {
    const shown =
      typeof v === 'string'
        ? v === ''
          ? 'an empty name'
          : quote(v)
        : `a ${v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v}`;
    throw new VendettaError('INVALID_NAME', `Invalid workspace ${field}: ${shown}`, {
      hint: 'A workspace name is 1–63 characters: lowercase letters, digits and "-", starting with a letter or digit (e.g. shop-api).',
    });
  }
  return v;
}

export function sshAlias(workspace: string, node: string): string {
  return `${workspace}.${node}${ALIAS_SUFFIX}`;
}

/** `<workspace>.<node>.vendetta` → its parts (OpenSSH lowercases host names; so do we). */
export function parseAlias(v: unknown): { name: string; node: string } {
  const bad = () =>
    new VendettaError('INVALID_NAME', `Not a workspace host: ${typeof v === 'string' ? quote(v) : 'a ' + typeof v}`, {
      hint: 'Workspace hosts look like <workspace>.<node>.vendetta (e.g. hello.local.vendetta); `vendetta workspace list` shows them.',
    });
  if (typeof v !== 'string' || v.length > 200) throw bad();
  const lower = v.toLowerCase();
  if (!lower.endsWith(ALIAS_SUFFIX)) throw bad();
  const parts = lower.slice(0, -ALIAS_SUFFIX.length).split('.');
  if (parts.length !== 2) throw bad();
  const [name, node] = parts as [string, string];
  if (!NAME_PATTERN.test(name) || !NAME_PATTERN.test(node)) throw bad();
  return { name: workspaceName(name), node: nodeName(node, 'name') };
}
