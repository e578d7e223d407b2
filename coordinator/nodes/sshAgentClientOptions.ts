/**
 * What an SshAgentClient is configured with, what it counts, and which failures its reconnects
 * treat as permanent or slow. Apart from sshAgentClient.ts so the client file holds only the
 * connection's life; callers that build a client (node add, tests) import the options from here.
 */
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import type { BackoffOptions } from '../ssh/backoff';
import type { PinnedKey } from '../ssh/knownHosts';
import type { ProvidedRuntime, RuntimeChoice } from '../ssh/provideRuntime';

export interface SshAgentClientOptions {
  paths: HomePaths;
  log: Logger;
  /** Default: agentBundlePath(). */
  agentBundle?: string;
  /** SSH keep-alive interval (default 5 s); the link is dead after `keepaliveCountMax` (2) more unanswered. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** false: never upload the agent (a node registered with --no-install). Default true. */
  install?: boolean;
  /** What to do when the node has no usable Node.js (the user's choice); absent: fail with the offers. */
  runtime?: RuntimeChoice;
  /** Progress lines of a runtime install (`node add` prints them). */
  onStatus?: (message: string) => void;
  /**
   * Decides on the host key of the first connection instead of the pin (`node add`, which pins
   * what it accepts); every later connection checks the pin as usual. Throws to refuse.
   */
  checkHostKey?: (offered: PinnedKey) => Promise<void>;
  /** TCP + SSH handshake + auth (default 15 s). */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** false: always attach, never a streamlocal channel to the daemon's socket. Default true. */
  directToSocket?: boolean;
}

/** Counters a test or benchmark can read; not part of the AgentClient contract. */
export interface SshAgentClientStats {
  sshConnects: number;
  /** Agent sessions opened, either way. */
  attaches: number;
  /** Of those, the ones on a streamlocal channel straight to the daemon's socket (the rest ran attach). */
  directs: number;
  /** Sessions for which an `attach` process ran on the node (a daemon just started is reached without one). */
  attachProcesses: number;
  installs: number;
  upgrades: number;
  /** Wall time of the last successful connect (SSH when needed + attach + initialize). */
  lastConnectMs: number;
  /** The Node.js the last connect brought the node, if it brought one. */
  runtimeProvided?: ProvidedRuntime;
}

/** Failures a retry cannot fix without someone changing the node's entry. */
export const PERMANENT = new Set(['INVALID_HOST', 'INVALID_NAME', 'INVALID_PARAMS', 'IDENTITY_INVALID']);
/** Failures a person must fix on the node (keys, runtime): retry, but slowly. */
export const SLOW = new Set([
  'AUTH_FAILED',
  'HOST_KEY_MISMATCH',
  'HOST_KEY_UNCONFIRMED',
  'NODE_RUNTIME_MISSING',
  'PROTOCOL_MISMATCH',
  'AGENT_INSTALL_FAILED',
]);
