/**
 * sshd leaves Nagle's algorithm on for connections without a terminal, and the kernel here
 * delays its ACKs by up to 40 ms when it has nothing to send. Two answers in flight on one link
 * (a status's ping and node/inspect), or one answer larger than a TCP segment, therefore stalled:
 * sshd held the second segment until the first was acknowledged, and the acknowledgement waited
 * 40 ms for data to ride on. Whenever a request that was already sent when data arrived is still
 * unanswered a moment later, we give the channel's window back at once: a small packet that
 * carries the ACK. Requests sent after the data (a client's next call) do not count: they are
 * not held up, and nudging for them sent a needless packet every millisecond of a busy link.
 * Nor is a timer armed when the data brought every answer owed in full (a lone request's reply,
 * the common case): it would only wake the process a millisecond later for nothing.
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

/** The requests of one channel by send order: 1, 2, 3… */
export interface RequestSequence {
  /** How many requests were sent so far (the number of the last one). */
  sent(): number;
  /** The number of the oldest request still unanswered, if any. */
  oldestPending(): number | undefined;
  /** With what arrived so far read: a request still has no answer in, or one is only partly in. */
  waiting(): boolean;
}

export function nudgeAcksWhilePending(channel: ClientChannel, requests: RequestSequence): void {
  const c = channel as unknown as ChannelInternals;
  const full = c.incoming?.window;
  if (typeof full !== 'number' || typeof c._client?._protocol?.channelWindowAdjust !== 'function') return;
  let timer: NodeJS.Timeout | undefined;
  let looking = false;
  let closed = false;
  let sentBeforeData = 0;
  const check = (): void => {
    timer = undefined;
    const oldest = requests.oldestPending();
    if (oldest !== undefined && oldest <= sentBeforeData) returnWindow(c, full);
  };
  // After the reader has consumed the data (it listens on the same event), before anything else runs.
  const look = (): void => {
    looking = false;
    if (!closed && !timer && requests.waiting()) timer = setTimeout(check, SETTLE_MS);
  };
  channel.on('data', () => {
    sentBeforeData = requests.sent();
    if (looking || timer) return;
    looking = true;
    process.nextTick(look);
  });
  channel.once('close', () => {
    closed = true;
    clearTimeout(timer);
  });
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
