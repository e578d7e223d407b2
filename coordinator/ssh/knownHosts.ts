/**
 * Pinned host keys in OpenSSH known_hosts format, so the real `ssh -o UserKnownHostsFile=…`
 * (Remote-SSH, the user's own shell) trusts exactly what vendetta pinned. One key per host:port;
 * `pin` replaces, hashed (`|1|…`) entries written by ssh-keygen -H are understood on read.
 */
import { createHmac } from 'node:crypto';
import { readTextIfExists } from '../../common/fs/files';
import { writeFileAtomic } from '../../common/fs/atomicWrite';
import { fingerprintOf, keyTypeOf } from './fingerprint';

export interface PinnedKey {
  keyType: string;
  key: Buffer;
  fingerprint: string;
}

/** How known_hosts names a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

interface Entry {
  hosts: string[];
  keyType: string;
  keyBase64: string;
}

function parseLine(line: string): Entry | undefined {
  const trimmed = line.trim();
  // Markers (@cert-authority, @revoked) are not pins: leave them to OpenSSH.
  if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('@')) return undefined;
  const [hosts, keyType, keyBase64] = trimmed.split(/\s+/);
  if (!hosts || !keyType || !keyBase64) return undefined;
  return { hosts: hosts.split(','), keyType, keyBase64 };
}

/** Does one host field (plain or `|1|salt|hash`) name exactly this pattern? Wildcards never match a pin. */
function hostMatches(field: string, pattern: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(pattern).digest('base64') === hash;
  }
  return field.toLowerCase() === pattern.toLowerCase();
}

export class KnownHosts {
  /** Serializes writers in this process; the atomic rename protects readers everywhere. */
  private static readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly file: string) {}

  lookup(host: string, port: number): PinnedKey | undefined {
    const pattern = knownHostsPattern(host, port);
    for (const line of this.readLines()) {
      const e = parseLine(line);
      if (!e || !e.hosts.some((h) => hostMatches(h, pattern))) continue;
      const key = Buffer.from(e.keyBase64, 'base64');
      try {
        if (keyTypeOf(key) !== e.keyType) continue;
      } catch {
        continue; // a damaged line pins nothing
      }
      return { keyType: e.keyType, key, fingerprint: fingerprintOf(key) };
    }
    return undefined;
  }

  /** Pins `key` for host:port, replacing whatever was pinned there. */
  pin(host: string, port: number, keyType: string, key: Buffer): Promise<void> {
    if (keyTypeOf(key) !== keyType) {
      return Promise.reject(new Error(`The host key is of type ${keyTypeOf(key)}, not ${keyType}`));
    }
    const pattern = knownHostsPattern(host, port);
    return this.update((lines) => [...without(lines, pattern), `${pattern} ${keyType} ${key.toString('base64')}`]);
  }

  remove(host: string, port: number): Promise<void> {
    const pattern = knownHostsPattern(host, port);
    return this.update((lines) => without(lines, pattern));
  }

  private readLines(): string[] {
    const text = readTextIfExists(this.file);
    if (text === undefined) return [];
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  private update(change: (lines: string[]) => string[]): Promise<void> {
    const prev = KnownHosts.queues.get(this.file) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(async () => {
        const before = this.readLines();
        const after = change(before);
        await writeFileAtomic(this.file, after.map((l) => l + '\n').join(''), { mode: 0o600, createDir: true });
      });
    KnownHosts.queues.set(this.file, next);
    void next
      .finally(() => {
        if (KnownHosts.queues.get(this.file) === next) KnownHosts.queues.delete(this.file);
      })
      .catch(() => undefined);
    return next;
  }
}

/** Lines with `pattern` taken out; a line naming other hosts too keeps those. */
function without(lines: string[], pattern: string): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const e = parseLine(line);
    if (!e || !e.hosts.some((h) => hostMatches(h, pattern))) {
      out.push(line);
      continue;
    }
    const rest = e.hosts.filter((h) => !hostMatches(h, pattern));
    if (rest.length > 0) {
      const comment = line.trim().split(/\s+/).slice(3).join(' ');
      out.push([rest.join(','), e.keyType, e.keyBase64, comment].filter(Boolean).join(' '));
    }
  }
  return out;
}
