/** Output kept of a command's stream when nobody streams it: every provider's exec bounds it the same way. */

/** Keeps the last `max` bytes of a stream: enough for an error message, bounded in memory. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    // Drop whole chunks only while what remains still covers the last `max` bytes.
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.max)
      this.size -= this.chunks.shift()!.length;
  }

  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}
