/**
 * The agent's workspace replies, validated at the boundary (a foreign or broken agent gets a clear
 * AGENT_ERROR, not a crash later), and the agent's error names dug out of a VendettaError.
 */
import { isObj } from '../../common/json/shape';
import { ResponseError } from 'vscode-jsonrpc';
import { EXTENSION_ID, HOOK_NAMES, type WorkspaceInfo } from '../../agent/protocol';
import { VendettaError } from '../errors';
import { causeChain } from '../../common/errors/causes';

const STATES = new Set(['creating', 'running', 'stopped', 'error', 'missing']);

function bad(what: string, node: string): never {
  throw new VendettaError('AGENT_ERROR', `The agent on ${node} sent a malformed workspace (${what})`, {
    node,
    hint: 'Upgrade vendetta so the coordinator and the agent match.',
  });
}

export function checkWorkspaceInfo(raw: unknown, node: string): WorkspaceInfo {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('not an object', node);
  const o = raw as Record<string, unknown>;
  for (const k of ['name', 'provider', 'image', 'user', 'workspaceFolder', 'nodeFolder', 'createdAt']) {
    if (typeof o[k] !== 'string') bad(k, node);
  }
  if (!STATES.has(o.state as string)) bad('state', node);
  if (o.ssh !== null) {
    const s = o.ssh as Record<string, unknown> | undefined;
    if (
      typeof s !== 'object' ||
      s === null ||
      typeof s.host !== 'string' ||
      !Number.isInteger(s.port) ||
      (s.port as number) < 1 ||
      (s.port as number) > 65535
    )
      bad('ssh', node);
    const k = s.hostKey as Record<string, unknown> | undefined;
    if (
      typeof k !== 'object' ||
      k === null ||
      typeof k.type !== 'string' ||
      typeof k.publicKey !== 'string' ||
      typeof k.fingerprint !== 'string'
    )
      bad('ssh.hostKey', node);
  }
  if (o.member !== undefined && typeof o.member !== 'string') bad('member', node);
  if (o.error !== undefined) {
    const e = o.error as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.message !== 'string')
      bad('error', node);
  }
  if (o.stopped !== undefined) {
    const st = o.stopped as Record<string, unknown> | null;
    if (
      typeof st !== 'object' ||
      st === null ||
      (st.reason !== 'request' && st.reason !== 'idle') ||
      typeof st.at !== 'string'
    )
      bad('stopped', node);
  }
  if (o.features !== undefined && !featuresAdded(o.features)) bad('features', node);
  if (o.warnings !== undefined && !createWarnings(o.warnings)) bad('warnings', node);
  return raw as WorkspaceInfo;
}

/** What the features add: hook names, and customizations whose extension ids VS Code may be asked to install. */
function featuresAdded(v: unknown): boolean {
  if (!isObj(v) || !Array.isArray(v.hooks) || !Array.isArray(v.vscode)) return false;
  return (
    v.hooks.every((h) => (HOOK_NAMES as readonly unknown[]).includes(h)) &&
    v.vscode.every(
      (c) =>
        isObj(c) &&
        isObj(c.settings) &&
        Array.isArray(c.extensions) &&
        c.extensions.every((e) => typeof e === 'string' && EXTENSION_ID.test(e)),
    )
  );
}

/** Shown to the user as they are: a code (a later agent may have more), a message of bounded length. */
function createWarnings(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.every(
      (w) =>
        isObj(w) &&
        typeof w.code === 'string' &&
        /^[A-Z_]{1,64}$/.test(w.code) &&
        typeof w.message === 'string' &&
        w.message.length <= 2000,
    )
  );
}

export function checkWorkspaceList(raw: unknown, node: string): WorkspaceInfo[] {
  if (!Array.isArray(raw)) bad('workspaces/list is not a list', node);
  return raw.map((w) => checkWorkspaceInfo(w, node));
}

/** The agent's stable error name (`WORKSPACE_NOT_FOUND`…) behind a VendettaError, if any. */
export function agentErrorName(err: unknown): string | undefined {
  const reply = [...causeChain(err)].find((e): e is ResponseError<unknown> => e instanceof ResponseError);
  const code = (reply?.data as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `ssh-ed25519 AAAA… [comment]` → the key type and the blob, as known_hosts pins it. */
export function parsePublicKey(line: string): { keyType: string; key: Buffer } | undefined {
  const [keyType, b64] = line.trim().split(/\s+/);
  if (!keyType || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) return undefined;
  return { keyType, key: Buffer.from(b64, 'base64') };
}
