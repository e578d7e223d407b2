/**
 * What the node manager needs from the SSH layer, as one interface: the real one wraps
 * coordinator/ssh; unit tests pass a fake, so the manager's logic runs without sshd.
 */
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import type { PrepareProvider, TestStep } from '../protocol';
import { prepareNode, type PrepareOptions, type PrepareOutcome } from '../ssh/prepare';
import {
  createSshAgentClient,
  diagnoseNode,
  ensureIdentity,
  KnownHosts,
  probeHostKey,
  purgeAgent,
  type IdentityInfo,
  type PinnedKey,
  type SshNodeTarget,
} from '../ssh';
import type { RuntimeChoice } from '../ssh/provideRuntime';
import type { AgentClient } from './agentClient';

export type { SshNodeTarget, IdentityInfo };
export type HostKey = PinnedKey;

export interface AgentClientOptions {
  install: boolean;
  /** When the node has no usable Node.js: the user's choice (absent: fail with the offers). */
  runtime?: RuntimeChoice;
  onStatus?: (message: string) => void;
  /** Decides on the first connection's host key instead of the pin; throws to refuse (`node add`). */
  checkHostKey?: (offered: HostKey) => Promise<void>;
}

export interface SshLayer {
  probeHostKey(host: string, port: number): Promise<HostKey>;
  lookupPin(host: string, port: number): HostKey | undefined;
  pin(host: string, port: number, key: HostKey): Promise<void>;
  unpin(host: string, port: number): Promise<void>;
  ensureIdentity(identity?: string): Promise<IdentityInfo>;
  createAgentClient(target: SshNodeTarget, opts: AgentClientOptions): AgentClient;
  diagnose(target: SshNodeTarget): Promise<TestStep[]>;
  purge(target: SshNodeTarget): Promise<void>;
  prepare(
    target: SshNodeTarget,
    provider: PrepareProvider,
    opts: { dryRun: boolean; announce: PrepareOptions['announce'] },
  ): Promise<PrepareOutcome>;
}

export function realSshLayer(paths: HomePaths, log: Logger): SshLayer {
  // Read the file afresh each time: `node add` and hand edits change it under us.
  const knownHosts = () => new KnownHosts(paths.knownHosts);
  return {
    probeHostKey: (host, port) => probeHostKey(host, port),
    lookupPin: (host, port) => knownHosts().lookup(host, port),
    pin: (host, port, k) => knownHosts().pin(host, port, k.keyType, k.key),
    unpin: (host, port) => knownHosts().remove(host, port),
    ensureIdentity: (identity) => ensureIdentity(paths, identity),
    createAgentClient: (target, opts) => createSshAgentClient(target, { paths, log, ...opts }),
    diagnose: (target) => diagnoseNode(target, { paths, log }),
    purge: (target) => purgeAgent(target, { paths, log }),
    prepare: (target, provider, opts) => prepareNode(target, provider, { paths, log, ...opts }),
  };
}
