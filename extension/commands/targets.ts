/**
 * Pure: what a command's argument names. Commands take a tree element (context menu, click),
 * a `{ name, node }` object or a string (other extensions, tests), or nothing (palette: ask).
 */
import type { NodeSummary, WorkspaceSummary } from '../../coordinator/protocol';
import type { TreeElement } from '../views/nodes/nodeTreeModel';

export interface WorkspaceTarget {
  name: string;
  node?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export function asTreeElement(arg: unknown): TreeElement | undefined {
  return isObject(arg) && typeof arg.kind === 'string' ? (arg as TreeElement) : undefined;
}

/** The node name an argument names, if any. */
export function nodeNameOf(arg: unknown): string | undefined {
  const el = asTreeElement(arg);
  if (el?.kind === 'node') return el.node.name;
  if (el?.kind === 'workspace' || el?.kind === 'service' || el?.kind === 'port') return el.workspace.node;
  if (typeof arg === 'string' && arg) return arg;
  if (isObject(arg) && !('kind' in arg) && typeof arg.name === 'string' && !('node' in arg)) return arg.name;
  return undefined;
}

/** The workspace an argument names: a tree element, `{name, node}`, `ws.node.vendetta` or `ws`. */
export function workspaceTargetOf(arg: unknown): WorkspaceTarget | undefined {
  const el = asTreeElement(arg);
  if (el?.kind === 'workspace' || el?.kind === 'service' || el?.kind === 'port')
    return { name: el.workspace.name, node: el.workspace.node };
  if (el) return undefined;
  if (typeof arg === 'string' && arg) {
    const m = /^([a-z0-9][a-z0-9-]*)\.([a-z0-9][a-z0-9-]*)\.vendetta$/.exec(arg);
    return m ? { name: m[1]!, node: m[2]! } : { name: arg };
  }
  if (isObject(arg) && typeof arg.name === 'string')
    return { name: arg.name, ...(typeof arg.node === 'string' ? { node: arg.node } : {}) };
  return undefined;
}

export function findWorkspace(all: readonly WorkspaceSummary[], t: WorkspaceTarget): WorkspaceSummary[] {
  return all.filter((w) => w.name === t.name && (t.node === undefined || w.node === t.node));
}

export function findNode(all: readonly NodeSummary[], name: string): NodeSummary | undefined {
  return all.find((n) => n.name === name);
}

/**
 * The node to preselect when creating a workspace: the config's `node`, else the
 * `vendetta.defaultNode` setting, else `local` — the first of those that exists.
 */
export function preferredNode(
  nodes: readonly NodeSummary[],
  configNode: string | undefined,
  defaultNode: string | undefined,
): string | undefined {
  for (const candidate of [configNode, defaultNode?.trim(), 'local']) {
    if (candidate && nodes.some((n) => n.name === candidate)) return candidate;
  }
  return nodes[0]?.name;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function nodeNameProblem(name: string, existing: ReadonlySet<string>): string | undefined {
  if (!NAME.test(name)) return 'Lowercase letters, digits and -, starting with a letter or digit (at most 63).';
  if (name === 'local') return '"local" is the built-in node for this machine; choose another name.';
  if (existing.has(name)) return `A node named ${name} already exists.`;
  return undefined;
}

/** `host`, `host:2222`, `[::1]:2222` → host and port; a message when it is not one. */
export function parseHostPort(input: string): { host: string; port?: number } | { problem: string } {
  const s = input.trim();
  if (!s) return { problem: 'Give a host name or an IP address.' };
  if (/[\s@'"`;$|&<>\\]/.test(s) || s.startsWith('-'))
    return { problem: 'Only a host name or an IP address, optionally with :port (the user comes next).' };
  let host = s;
  let portText: string | undefined;
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if ((s.match(/:/g) ?? []).length === 1) {
    [host, portText] = s.split(':') as [string, string];
  }
  if (!host) return { problem: 'Give a host name or an IP address.' };
  if (portText === undefined) return { host };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    return { problem: 'The port is a whole number from 1 to 65535.' };
  return { host, port };
}

export function userProblem(user: string): string | undefined {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(user)
    ? undefined
    : 'A user name of letters, digits, _ . and - (at most 32).';
}
