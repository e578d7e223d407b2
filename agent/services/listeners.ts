/**
 * Which TCP ports listen inside a workspace, from its /proc/net/tcp and /proc/net/tcp6 (read
 * with `cat`, which every image has). A `tcp` health check is "something listens on the port":
 * connecting through the node's published port cannot tell, because Docker's userland proxy
 * accepts every connection whether or not anything listens behind it.
 */

export type ListenScope = 'loopback' | 'any' | 'other';

export interface Listener {
  port: number;
  scope: ListenScope;
}

const LISTEN = '0A';

function scopeOf(hexAddr: string): ListenScope {
  if (/^0+$/.test(hexAddr)) return 'any';
  if (hexAddr.length === 8) return hexAddr.endsWith('7F') ? 'loopback' : 'other'; // little-endian 127.x.x.x
  if (hexAddr === '00000000000000000000000001000000') return 'loopback'; // ::1
  if (/^0000000000000000FFFF0000[0-9A-F]{6}7F$/i.test(hexAddr)) return 'loopback'; // ::ffff:127.x.x.x
  return 'other';
}

export function parseProcNetTcp(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !/^\d+:$/.test(f[0]!)) continue;
    if (f[3]!.toUpperCase() !== LISTEN) continue;
    const [addr, port] = f[1]!.split(':');
    if (!addr || !port) continue;
    out.push({ port: parseInt(port, 16), scope: scopeOf(addr.toUpperCase()) });
  }
  return out;
}

export const READ_LISTENERS_ARGV = ['cat', '/proc/net/tcp', '/proc/net/tcp6'];

/** `none`: nothing listens; `loopback`: only on loopback (unreachable through a published port). */
export function reachability(listeners: readonly Listener[], port: number): 'none' | 'loopback' | 'published' {
  const mine = listeners.filter((l) => l.port === port);
  if (mine.length === 0) return 'none';
  return mine.every((l) => l.scope === 'loopback') ? 'loopback' : 'published';
}
