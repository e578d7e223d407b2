/**
 * One health check. `command` runs inside the workspace (exit 0 is healthy). `http` and `tcp` run
 * here, on the node, and need nothing inside the image (a busybox-only image's httpd is checked
 * like any other): a localhost URL goes to the service's published node port while the port
 * relay works (relay.ts), else to the workspace's own address; any other URL is fetched as
 * given. `tcp` connects to the workspace's own address (Docker's userland proxy on a published
 * port accepts every connection, so only a direct connect proves a listener); when that fails,
 * the workspace's /proc/net/tcp says whether the port listens on its loopback only
 * (listeners.ts), which counts as listening, as it always has.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, isIP } from 'node:net';
import type { ServiceHealthcheckSpec } from '../protocol';
import type { ExecResult } from '../providers/contract';
import { parseProcNetTcp, READ_LISTENERS_ARGV, reachability } from './listeners';
import { commandArgv } from './processControl';

export interface CheckResult {
  ok: boolean;
  output: string;
}

/** Where a node-side GET goes, and the Host header it keeps from the check's URL. */
export interface HttpTarget {
  host: string;
  port: number;
  path: string;
  hostHeader: string;
  tls: boolean;
}

export interface CheckDeps {
  /** Runs argv in the workspace as the service would (user, env, folder), bounded in time. */
  exec(argv: string[], timeoutMs: number): Promise<ExecResult>;
  nodePortOf(guestPort: number): number | undefined;
  /** The workspace's own address, reachable from the node without a proxy between, while it runs. */
  workspaceAddress(): Promise<string | undefined>;
  /** Node side: GET; the status, or throws. */
  httpGet(target: HttpTarget, timeoutMs: number): Promise<number>;
  /** Node side: resolves once a TCP connection is made (and closes it), else rejects. */
  tcpConnect(host: string, port: number, timeoutMs: number): Promise<void>;
}

const OUTPUT_MAX = 500;

export function clip(text: string): string {
  const t = text.trim();
  return t.length > OUTPUT_MAX ? `…${t.slice(t.length - OUTPUT_MAX)}` : t;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export async function runCheck(hc: ServiceHealthcheckSpec, deps: CheckDeps): Promise<CheckResult> {
  try {
    if (hc.kind === 'command') {
      const r = await deps.exec(commandArgv(hc.command), hc.timeoutMs);
      return { ok: r.exitCode === 0, output: clip(`${r.stdout}${r.stderr}`) || `exit code ${r.exitCode}` };
    }
    if (hc.kind === 'tcp') return await tcpCheck(hc.port, hc.timeoutMs, deps);
    return await httpCheck(hc.url, hc.timeoutMs, deps);
  } catch (err) {
    return { ok: false, output: clip(errorText(err)) };
  }
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function isHealthyStatus(status: number): boolean {
  return status >= 200 && status < 400;
}

async function tcpCheck(port: number, timeoutMs: number, deps: CheckDeps): Promise<CheckResult> {
  const address = await deps.workspaceAddress();
  let refused: string;
  if (address !== undefined) {
    try {
      await deps.tcpConnect(address, port, timeoutMs);
      return { ok: true, output: `port ${port} accepts connections` };
    } catch (err) {
      refused = `nothing accepts connections on port ${port} (${errorText(err)})`;
    }
  } else {
    refused = `nothing listens on port ${port} (the workspace has no address on the node)`;
  }
  // A loopback-only listener cannot be reached from the node: ask the workspace's kernel.
  const r = await deps.exec(READ_LISTENERS_ARGV, timeoutMs).catch(() => undefined);
  if (!r || r.exitCode !== 0) return { ok: false, output: refused };
  return reachability(parseProcNetTcp(r.stdout), port) === 'none'
    ? { ok: false, output: `nothing listens on port ${port}` }
    : { ok: true, output: `port ${port} is listening` };
}

async function httpCheck(url: string, timeoutMs: number, deps: CheckDeps): Promise<CheckResult> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const port = Number(u.port || (tls ? 443 : 80));
  const path = `${u.pathname}${u.search}`;
  let host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  let at = port;
  if (LOCAL_HOSTS.has(u.hostname)) {
    const nodePort = deps.nodePortOf(port);
    const address = nodePort === undefined ? await deps.workspaceAddress() : undefined;
    if (nodePort !== undefined) [host, at] = ['127.0.0.1', nodePort];
    else if (address !== undefined) host = address;
    else
      return {
        ok: false,
        output: `${url} is not reachable from the node: the workspace has no address there and port ${port} is not published`,
      };
  }
  const status = await deps.httpGet({ host, port: at, path, hostHeader: u.host, tls }, timeoutMs);
  return { ok: isHealthyStatus(status), output: `HTTP ${status} from ${url}` };
}

/**
 * Node-side GET with a deadline; resolves with the status, rejects on any transport failure.
 * An https check does not verify the certificate: it asks whether the service answers, and a
 * development service's certificate is rarely one the node trusts.
 */
export function nodeHttpGet(target: HttpTarget, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = {
      host: target.host,
      port: target.port,
      path: target.path,
      method: 'GET',
      headers: { Host: target.hostHeader, Connection: 'close' },
      timeout: timeoutMs,
    };
    const onReply = (res: IncomingMessage): void => {
      res.resume();
      resolve(res.statusCode ?? 0);
    };
    const name = target.hostHeader.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    const req = target.tls
      ? httpsRequest({ ...options, rejectUnauthorized: false, ...(isIP(name) ? {} : { servername: name }) }, onReply)
      : httpRequest(options, onReply);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err));
    req.end();
  });
}

/** Node-side TCP connect with a deadline. */
export function nodeTcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      resolve();
      // Closed politely: our FIN, and whatever the service sends is read. A reset instead would
      // crash a service whose sockets have no 'error' handler (ECONNRESET), at every check.
      socket.setTimeout(timeoutMs, () => socket.destroy());
      socket.resume();
      socket.end();
    });
    socket.once('timeout', () => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)));
    socket.on('error', reject); // after resolve: nothing to report
  });
}
