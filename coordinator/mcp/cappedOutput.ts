/**
 * Bounded capture of a command's output for a model: the first and the last half of the cap are
 * kept (a build's error is usually at the end, its context at the start), and what was cut in
 * the middle is counted, so the text can say so.
 */
export class CappedOutput {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const headRoom = Math.ceil(this.maxBytes / 2) - this.headBytes;
    if (headRoom > 0) {
      const take = chunk.subarray(0, headRoom);
      this.head.push(take);
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
      if (chunk.length === 0) return;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    const keep = Math.floor(this.maxBytes / 2);
    // Drop whole chunks that fall out of the tail window, then trim the oldest one.
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= keep && this.tail.length > 1) {
      this.tailBytes -= this.tail.shift()!.length;
    }
    if (this.tailBytes > keep) {
      const first = this.tail[0]!;
      this.tail[0] = first.subarray(this.tailBytes - keep);
      this.tailBytes = keep;
    }
  }

  get totalBytes(): number {
    return this.total;
  }

  get cutBytes(): number {
    return this.total - this.headBytes - this.tailBytes;
  }

  /** The kept bytes (all of them when nothing was cut). */
  bytes(): Buffer {
    return Buffer.concat([...this.head, ...this.tail]);
  }

  /** The kept text (UTF-8, a character split at a cut shows as U+FFFD) with a note where bytes were cut. */
  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    const cut = this.cutBytes;
    return cut > 0
      ? `${head}\n[… ${cut} bytes cut: the output had ${this.total} bytes, the cap is ${this.maxBytes} …]\n${tail}`
      : head + tail;
  }
}
