/**
 * Where a provider's published ports arrive at the workspace's own address (its
 * `publishedPortsArrive` is `address`: Docker's proxy and NAT, QEMU's user-mode network), a
 * service that listens only on 127.0.0.1 inside (as the discovery env suggests) is unreachable
 * through its published port. One relay per workspace fixes that: started with the services, it
 * watches the workspace's /proc/net/tcp{,6} every 200 ms (often enough for a health check's next
 * try; at 50 ms it took half a CPU of a VM under TCG), and while a published port has a loopback-only
 * listener it listens on the workspace's own addresses at that port and carries each connection
 * to 127.0.0.1. When the listener goes (the service stopped or crashed) it lets go of the port,
 * so a next run may bind 0.0.0.0 itself. It needs `node` in the workspace; without it only
 * services listening on 0.0.0.0 are reachable from the node, and the logs say so.
 *
 * Only connections from the workspace's default gateway are carried: that is where the node's
 * side connects from (Docker's proxy or NAT, QEMU's slirp). Other workspaces on the same bridge
 * reach a relayed port no more than they reach the service itself.
 *
 * It prints `relaying <port>`, `released <port>` and `error <port> <message>` lines.
 */

/**
 * The relay's process name (its main thread's `comm`): the idle watch leaves the agent's own
 * process out of the workspace's CPU use. At most 15 characters, the kernel's limit.
 */
export const RELAY_PROCESS_NAME = 'vendetta-relay';

const RELAY_JS = `process.title = '${RELAY_PROCESS_NAME}';
const net = require('net'), os = require('os'), fs = require('fs');
const ports = process.argv.slice(1).map(Number);
const held = new Map();
const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return ''; } };
const addrs = () => Object.values(os.networkInterfaces()).flat()
  .filter((a) => a && !a.internal && (a.family === 'IPv4' || a.family === 4)).map((a) => a.address);
function gateway() {
  for (const l of read('/proc/net/route').split('\\n').slice(1)) {
    const f = l.trim().split(/\\s+/);
    if (f[1] === '00000000' && f[2] && f[2] !== '00000000') return f[2].match(/../g).reverse().map((h) => parseInt(h, 16)).join('.');
  }
  return undefined;
}
function listeners() {
  const out = [];
  for (const l of (read('/proc/net/tcp') + read('/proc/net/tcp6')).split('\\n')) {
    const f = l.trim().split(/\\s+/);
    if (f.length < 4 || f[3] !== '0A') continue;
    const [a, p] = f[1].split(':');
    const lo = a.length === 8 ? a.endsWith('7F') : a === '00000000000000000000000001000000' || /^0000000000000000FFFF0000[0-9A-F]{6}7F$/i.test(a);
    out.push({ port: parseInt(p, 16), lo });
  }
  return out;
}
function carry(port, c) {
  const gw = gateway();
  if (gw && String(c.remoteAddress).replace(/^::ffff:/, '') !== gw) return c.destroy();
  const u = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
}
function tick() {
  const ls = listeners();
  for (const port of ports) {
    const mine = ls.filter((l) => l.port === port);
    const lo = mine.some((l) => l.lo);
    const others = mine.filter((l) => !l.lo).length - (held.has(port) ? held.get(port).length : 0);
    if (held.has(port) && !lo) {
      for (const s of held.get(port)) s.close();
      held.delete(port);
      console.log('released ' + port);
    } else if (!held.has(port) && lo && others <= 0) {
      const servers = addrs().map((host) => net.createServer({ allowHalfOpen: true }, (c) => carry(port, c))
        .on('error', (e) => console.log('error ' + port + ' ' + e.message)).listen(port, host));
      held.set(port, servers);
      Promise.all(servers.map((s) => new Promise((r) => { s.once('listening', r); s.once('error', r); })))
        .then(() => { if (held.get(port) === servers) console.log('relaying ' + port); });
    }
  }
}
setInterval(tick, 200);
tick();`;

const RELAY_SH = `js=$1; shift; if command -v node >/dev/null 2>&1; then exec node -e "$js" "$@"; fi
echo "no node in the workspace" >&2; exit 127`;

export function relayArgv(ports: readonly number[]): string[] {
  return ['/bin/sh', '-c', RELAY_SH, 'vendetta-relay', RELAY_JS, ...ports.map(String)];
}

export type RelayEvent =
  | { kind: 'relaying' | 'released'; port: number }
  | { kind: 'error'; port: number; message: string };

export function parseRelayLine(line: string): RelayEvent | undefined {
  const m = /^(relaying|released|error) (\d+)(?: (.*))?$/.exec(line);
  if (!m) return undefined;
  const port = Number(m[2]);
  return m[1] === 'error'
    ? { kind: 'error', port, message: m[3] ?? '' }
    : { kind: m[1] as 'relaying' | 'released', port };
}
