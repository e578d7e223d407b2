/**
 * The engine's multiplexed stream (exec and logs without a TTY): frames of an 8-byte header —
 * stream (1 stdout, 2 stderr), three zero bytes, a big-endian uint32 length — then the payload.
 * Frames arrive split across chunks in any way; this reassembles them.
 */

export type StreamKind = 'stdout' | 'stderr';

export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly emit: (kind: StreamKind, data: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const type = this.pending[0]!;
      const len = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + len) break;
      const payload = this.pending.subarray(8, 8 + len);
      this.pending = this.pending.subarray(8 + len);
      // 0 is stdin echoed back (never asked for); anything else but 2 is output.
      if (type === 0) continue;
      if (payload.length) this.emit(type === 2 ? 'stderr' : 'stdout', payload);
    }
  }

  /** Bytes of a frame that never completed (the stream was cut). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Splits a whole recorded stream (logs) into its stdout and stderr text. */
export function demuxAll(data: Buffer): { stdout: string; stderr: string } {
  const out: Record<StreamKind, Buffer[]> = { stdout: [], stderr: [] };
  const d = new Demuxer((kind, chunk) => out[kind].push(chunk));
  d.push(data);
  return { stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') };
}

export { TailBuffer } from '../tailBuffer';
