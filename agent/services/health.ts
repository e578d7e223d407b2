/**
 * One health check. `command` runs inside the workspace (exit 0 is healthy). `tcp` asks the
 * workspace's kernel whether something listens on the port (listeners.ts says why not a
 * connect). `http` goes to the node-side published port when the URL names a published port on
 * localhost (no exec: fast), else through a small script inside the workspace (curl, wget or node).
 */
import { request } from 'node:http';
import type { ServiceHealthcheckSpec } from '../protocol';
import type { ExecResult } from '../providers/contract';
import { parseProcNetTcp, READ_LISTENERS_ARGV, reachability } from './listeners';
import { commandArgv } from './processControl';

export interface CheckResult {
  ok: boolean;
  output: string;
}

export interface CheckDeps {
  /** Runs argv in the workspace as the service would (user, env, folder), bounded in time. */
  exec(argv: string[], timeoutMs: number): Promise<ExecResult>;
  nodePortOf(guestPort: number): number | undefined;
  /** Node side: GET on 127.0.0.1:port; the status, or throws. */
  httpGet(port: number, path: string, hostHeader: string, timeoutMs: number): Promise<number>;
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
    if (hc.kind === 'tcp') {
      const r = await deps.exec(READ_LISTENERS_ARGV, hc.timeoutMs);
      const where = reachability(parseProcNetTcp(r.stdout), hc.port);
      return where === 'none' ? { ok: false, output: `nothing listens on port ${hc.port}` } : { ok: true, output: `port ${hc.port} is listening` };
    }
    return await httpCheck(hc.url, hc.timeoutMs, deps);
  } catch (err) {
    return { ok: false, output: clip(err instanceof Error ? err.message : String(err)) };
  }
}

export function isHealthyStatus(status: number): boolean {
  return status >= 200 && status < 400;
}

async function httpCheck(url: string, timeoutMs: number, deps: CheckDeps): Promise<CheckResult> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const nodePort = u.protocol === 'http:' && LOCAL_HOSTS.has(u.hostname) ? deps.nodePortOf(port) : undefined;
  if (nodePort !== undefined) {
    const status = await deps.httpGet(nodePort, `${u.pathname}${u.search}`, u.host, timeoutMs);
    return { ok: isHealthyStatus(status), output: `HTTP ${status} from ${url}` };
  }
  const r = await deps.exec(['/bin/sh', '-c', HTTP_IN_WORKSPACE, 'vendetta-http-check', url, String(Math.max(1, Math.ceil(timeoutMs / 1000)))], timeoutMs + 1000);
  const status = Number(r.stdout.trim().split('\n').pop());
  if (r.exitCode === 0 && Number.isInteger(status) && status > 0) return { ok: isHealthyStatus(status), output: `HTTP ${status} from ${url}` };
  return { ok: false, output: clip(`${r.stdout}${r.stderr}`) || `${url} did not answer` };
}

/** Prints the HTTP status of GET $1 (timeout $2 s) with whatever the workspace has. */
const HTTP_IN_WORKSPACE = `if command -v curl >/dev/null 2>&1; then exec curl -s -o /dev/null -m "$2" -w '%{http_code}\\n' "$1"; fi
if command -v node >/dev/null 2>&1; then exec node -e "const r=require('http').get(process.argv[1],{timeout:process.argv[2]*1000},(s)=>{console.log(s.statusCode);process.exit(0)});r.on('error',(e)=>{console.error(e.message);process.exit(1)});r.on('timeout',()=>r.destroy(new Error('timed out')))" "$1" "$2"; fi
if command -v wget >/dev/null 2>&1; then wget -q -T "$2" -O /dev/null "$1" && echo 200 && exit 0; echo "wget: $1 failed" >&2; exit 1; fi
echo "no curl, node or wget in the workspace for an http check" >&2; exit 127`;

/** Node-side GET with a deadline; resolves with the status, rejects on any transport failure. */
export function nodeHttpGet(port: number, path: string, hostHeader: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { Host: hostHeader, Connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err));
    req.end();
  });
}
