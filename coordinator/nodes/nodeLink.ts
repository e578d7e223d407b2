/**
 * The pooled SSH connection under an SshAgentClient: opened with keep-alives, it remembers why
 * it died (a keep-alive timeout says how long the node was silent) and tells its owner once.
 */
import type { Client } from 'ssh2';
import type { VendettaError } from '../errors';
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import { openSsh, type OpenSshOptions } from '../ssh/connect';
import type { SshNodeTarget } from '../ssh/target';

export interface NodeLink {
  ssh: Client;
  /** Why the SSH connection died, once it has. */
  lost?: VendettaError;
  /** The node refused a streamlocal channel to its running daemon: attach from now on. */
  noDirect?: boolean;
}

export interface NodeLinkOptions {
  paths: HomePaths;
  log: Logger;
  connectTimeoutMs?: number;
  /** SSH keep-alive interval (default 5 s); the link is dead after `keepaliveCountMax` (2) more unanswered. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** In place of the pin check (openSsh's option of that name). */
  checkHostKey?: OpenSshOptions['checkHostKey'];
  /** The error a lost link carries (NODE_UNREACHABLE, worded by the client). */
  unreachable(why: string, cause?: unknown): VendettaError;
  /** The connection closed; `link.lost` says why. */
  onClose(link: NodeLink): void;
}

export async function openNodeLink(target: SshNodeTarget, opts: NodeLinkOptions): Promise<NodeLink> {
  const keepaliveInterval = opts.keepaliveIntervalMs ?? 5_000;
  const keepaliveCountMax = opts.keepaliveCountMax ?? 2;
  const { client } = await openSsh(target, {
    paths: opts.paths,
    log: opts.log,
    timeoutMs: opts.connectTimeoutMs,
    keepaliveIntervalMs: keepaliveInterval,
    keepaliveCountMax,
    ...(opts.checkHostKey ? { checkHostKey: opts.checkHostKey } : {}),
  });
  const link: NodeLink = { ssh: client };
  let reason: VendettaError | undefined;
  client.on('error', (err: Error & { level?: string }) => {
    reason ??=
      err.level === 'client-timeout'
        ? opts.unreachable(
            `no answer to SSH keep-alives for ${((keepaliveCountMax + 1) * keepaliveInterval) / 1000} s`,
            err,
          )
        : opts.unreachable(err.message, err);
  });
  client.on('close', () => {
    link.lost ??= reason ?? opts.unreachable('the SSH connection closed');
    opts.onClose(link);
  });
  return link;
}
