/**
 * Long-running CLI commands for the services tests (`workspace forward`, `logs -f`): spawned, their
 * output watched as it comes, stopped with a signal; and a plain HTTP GET, run where the forward is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';

export interface LiveCommand {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match in stdout (and when it was seen), rejects after `ms`. */
  waitFor(re: RegExp, ms: number): Promise<{ match: RegExpMatchArray; at: number }>;
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  exited: Promise<number>;
}

export function startLive(argv: string[], env: NodeJS.ProcessEnv): LiveCommand {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1))),
  );
  const cmd: LiveCommand = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve({ match: m, at: Date.now() });
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${re} within ${ms} ms; stdout: ${out.slice(-2000)} stderr: ${err.slice(-2000)}`));
        }, ms);
        waiters.add(check);
        check();
        void exited.then(() =>
          setTimeout(() => {
            if (!waiters.has(check)) return;
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`exited before ${re}; stdout: ${out.slice(-2000)} stderr: ${err.slice(-2000)}`));
          }, 50),
        );
      });
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return cmd;
}

/** GET (or POST) url; status and body, or the error's message as status 0. */
export function httpGet(
  url: string,
  opts: { method?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: string; ms: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = request(url, { method: opts.method ?? 'GET', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, ms: Number(process.hrtime.bigint() - t0) / 1e6 }),
      );
      res.on('error', (e) => resolve({ status: 0, body: e.message, ms: 0 }));
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve({ status: 0, body: e.message, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    req.end();
  });
}

/** The same GET as a one-line Node.js program (for running inside a network namespace): prints `status body-length`. */
export function httpGetScript(url: string, method = 'GET'): string[] {
  const js = `const r=require('http').request(${JSON.stringify(url)},{method:${JSON.stringify(method)}},(s)=>{let b='';s.on('data',(c)=>b+=c);s.on('end',()=>{process.stdout.write(JSON.stringify({status:s.statusCode,body:b}));});});r.setTimeout(5000,()=>r.destroy(new Error('timed out')));r.on('error',(e)=>{process.stdout.write(JSON.stringify({status:0,body:e.message}));});r.end();`;
  return [process.execPath, '-e', js];
}
