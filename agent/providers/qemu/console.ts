/**
 * The VM's serial console, which QEMU writes to a file: read as clean text lines (no terminal
 * escapes or carriage returns), followed while a boot is waited for (each new line becomes a
 * progress message), and its last lines quoted when a guest never comes up.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Terminal colour and cursor escapes, and other control characters but tab. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ESCAPES = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|[\x00-\x08\x0b-\x1f\x7f]/g;

export function cleanConsoleLine(line: string): string {
  return line.replace(/\r/g, '').replace(ESCAPES, '').trimEnd();
}

function readRange(file: string, from: number, max: number): { text: string; end: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { text: '', end: from };
  }
  try {
    const size = statSync(file).size;
    const start = Math.max(from, size - max);
    const buf = Buffer.alloc(Math.max(0, size - start));
    const n = buf.length ? readSync(fd, buf, 0, buf.length, start) : 0;
    return { text: buf.subarray(0, n).toString('utf8'), end: start + n };
  } finally {
    closeSync(fd);
  }
}

/** The last `lines` non-empty lines of the console. */
export function consoleTail(file: string, lines: number): string {
  const { text } = readRange(file, 0, 64 * 1024);
  return text.split('\n').map(cleanConsoleLine).filter(Boolean).slice(-lines).join('\n');
}

/** New complete lines since the last call. */
export class ConsoleFollower {
  private offset = 0;
  private partial = '';

  constructor(private readonly file: string) {}

  next(): string[] {
    const { text, end } = readRange(this.file, this.offset, 1024 * 1024);
    this.offset = end;
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    return parts.map(cleanConsoleLine).filter(Boolean);
  }
}

/** The kernel's last word on a clean power-off. */
export function poweredOff(tail: string): boolean {
  return /reboot: Power down|reboot: System halted/.test(tail);
}
