/**
 * sshd leaves Nagle's algorithm on for connections without a terminal, and the kernel here
 * delays its ACKs by up to 40 ms when it has nothing to send. Two answers in flight on one link
 * (a status's ping and node/info), or one answer larger than a TCP segment, therefore stalled:
 * sshd held the second segment until the first was acknowledged, and the acknowledgement waited
 * 40 ms for data to ride on. Whenever data arrives while requests are still unanswered a moment
 * later, we give the channel's window back at once: a small packet that carries the ACK.
 */
import type { ClientChannel } from 'ssh2';

/** ssh2 internals a window adjust needs (stable across ssh2 1.x). */
interface ChannelInternals {
  outgoing?: { state?: string; id?: number };
  incoming?: { window?: number };
  _client?: { _protocol?: { channelWindowAdjust?(remoteId: number, bytes: number): void } };
}

/** How long after data arrives we look whether anything is still unanswered. */
const SETTLE_MS = 1;

export function nudgeAcksWhilePending(channel: ClientChannel, pending: () => number): void {
  const c = channel as unknown as ChannelInternals;
  const full = c.incoming?.window;
  if (typeof full !== 'number' || typeof c._client?._protocol?.channelWindowAdjust !== 'function') return;
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    timer = undefined;
    if (pending() > 0) returnWindow(c, full);
  };
  channel.on('data', () => {
    timer ??= setTimeout(check, SETTLE_MS);
  });
  channel.once('close', () => clearTimeout(timer));
}

/** Tops the receive window back up to `full` (what ssh2 does once half of it is used). */
export function returnWindow(c: ChannelInternals, full: number): boolean {
  const id = c.outgoing?.id;
  const window = c.incoming?.window;
  if (c.outgoing?.state === 'closed' || typeof id !== 'number' || typeof window !== 'number') return false;
  const bytes = full - window;
  if (bytes <= 0) return false;
  c.incoming!.window = full;
  c._client!._protocol!.channelWindowAdjust!(id, bytes);
  return true;
}
