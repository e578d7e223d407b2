/**
 * What each node last said about its workspaces (state, error, stop reason, SSH endpoint),
 * remembered per workspace so change events and the tunnel need not ask the node again, and the
 * summary a client sees built from a record and that answer.
 */
import type { WorkspaceInfo } from '../../agent/protocol';
import type { VendettaError } from '../errors';
import type { WorkspaceSummary } from '../protocol';
import type { WorkspaceRecord } from './store';

export interface KnownState {
  state: WorkspaceSummary['state'];
  error?: WorkspaceSummary['error'];
  stopped?: WorkspaceSummary['stopped'];
  ssh?: { host: string; port: number };
  /** The LXD cluster member that runs it; kept from the last answer while its node cannot say. */
  member?: string;
}

const key = (record: WorkspaceRecord) => `${record.node}/${record.name}`;

export class KnownStates {
  private readonly known = new Map<string, KnownState>();

  get(record: WorkspaceRecord): KnownState | undefined {
    return this.known.get(key(record));
  }

  /** Remembers what the node said: its info, an error asking it, or (neither) that it has no such workspace. */
  note(record: WorkspaceRecord, info: WorkspaceInfo | undefined, error?: VendettaError): KnownState {
    const lastMember = this.known.get(key(record))?.member;
    const k: KnownState = info
      ? {
          state: info.state,
          ...(info.error ? { error: { ...info.error } } : {}),
          ...(info.stopped ? { stopped: { ...info.stopped } } : {}),
          ...(info.ssh ? { ssh: { host: info.ssh.host, port: info.ssh.port } } : {}),
          ...(info.member ? { member: info.member } : {}),
        }
      : error
        ? {
            state: 'error',
            error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
            // A member gone offline is the usual cause; the tree still shows where the workspace is.
            ...(lastMember ? { member: lastMember } : {}),
          }
        : {
            state: 'missing',
            error: {
              code: 'WORKSPACE_MISSING',
              message: `${record.node} no longer has this workspace`,
              hint: `\`vendetta workspace up\` makes it again; \`vendetta workspace rm ${record.name}\` forgets it.`,
            },
          };
    this.known.set(key(record), k);
    return k;
  }

  forget(record: WorkspaceRecord): void {
    this.known.delete(key(record));
  }

  /** The record as a client sees it, with what its node last said (`creating` before it said anything). */
  summary(record: WorkspaceRecord, k: KnownState | undefined = this.get(record)): WorkspaceSummary {
    const s: WorkspaceSummary = {
      name: record.name,
      node: record.node,
      provider: record.provider,
      state: k?.state ?? 'creating',
      sshHost: record.sshHost,
      createdAt: record.createdAt,
      workspaceFolder: record.workspaceFolder,
    };
    if (record.projectPath) s.projectPath = record.projectPath;
    if (k?.error && k.state !== 'running') s.error = { ...k.error };
    if (record.unfinished) s.unfinished = { ...record.unfinished };
    if (k?.state === 'stopped' && k.stopped) s.stopped = { ...k.stopped };
    if (k?.member) s.member = k.member;
    return s;
  }
}
