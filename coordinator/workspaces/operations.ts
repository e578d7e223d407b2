/**
 * What the operations on workspaces (`up`, its services step and progress record, sync conflicts)
 * are given by the manager: its stores and its shared per-workspace bookkeeping. They receive it
 * instead of reaching back into the manager, so no operation depends on the manager's class.
 */
import type { Duplex } from 'node:stream';
import type { CancellationToken } from 'vscode-jsonrpc';
import type { WorkspaceInfo } from '../../agent/protocol';
import type { VendettaError } from '../errors';
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import type { AgentClient } from '../nodes/agentClient';
import type { ForwardInfo, WorkspaceRef, WorkspaceSummary } from '../protocol';
import type { KnownHosts } from '../ssh/knownHosts';
import type { HostBlock } from '../sshConfig/blocks';
import type { SshConfigFile } from '../sshConfig/sshConfigFile';
import type { SyncStateStore } from '../sync/syncState';
import type { WorkspaceRecord, WorkspaceStore } from './store';

export interface WorkspaceOps {
  readonly paths: HomePaths;
  readonly log: Logger;
  /** The workspaces' private key, named in every ssh_config block. */
  readonly identityFile: string;
  readonly store: WorkspaceStore;
  readonly sshConfig: SshConfigFile;
  readonly knownHosts: KnownHosts;
  readonly syncState: SyncStateStore;
  client(node: string): AgentClient;
  resolve(ref: WorkspaceRef): WorkspaceRecord;
  busy(node: string, name: string): string | undefined;
  exclusive<T>(node: string, name: string, fn: () => Promise<T>, what?: string): Promise<T>;
  hostBlock(record: WorkspaceRecord): HostBlock;
  noteInfo(record: WorkspaceRecord, info: WorkspaceInfo | undefined, error?: VendettaError): void;
  forget(record: WorkspaceRecord): void;
  summary(record: WorkspaceRecord): WorkspaceSummary;
  emitChange(): void;
  inspect(record: WorkspaceRecord, token?: CancellationToken): Promise<WorkspaceInfo | undefined>;
  openSsh(record: WorkspaceRecord): Promise<Duplex>;
  /** Drops everything here that points at the workspace (ssh_config block, pinned key, records). */
  forgetLocally(record: WorkspaceRecord): Promise<void>;
  /** The node's default idle timeout, for a config that sets none. */
  nodeIdleTimeoutMs(node: string): number | undefined;
}

/** Forwards ports of a workspace to this machine (`up --forward`); the services manager's. */
export type PortForwarder = (record: WorkspaceRecord, ports: number[]) => Promise<ForwardInfo[]>;
