/**
 * A local image registry for pull tests (TEST-INFRA.md "A local registry"): Debian's
 * `docker-registry` (distribution 2.8) on 127.0.0.1:<port> inside a node's network namespace,
 * where that node's dockerd reaches it (the engine trusts 127.0.0.0/8 without TLS), optionally
 * behind basic auth (a bcrypt htpasswd file from apache2-utils). Stopped by PID, also when the
 * test process exits.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Registry {
  /** `127.0.0.1:<port>`, as image references name it. */
  host: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startRegistry(opts: {
  dir: string;
  netns: string;
  port: number;
  user?: { name: string; password: string };
}): Promise<Registry> {
  mkdirSync(join(opts.dir, 'data'), { recursive: true });
  const auth = opts.user ? `auth: { htpasswd: { realm: vendetta-test, path: ${join(opts.dir, 'htpasswd')} } }\n` : '';
  if (opts.user) {
    const r = spawnSync('htpasswd', ['-Bbn', opts.user.name, opts.user.password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    writeFileSync(join(opts.dir, 'htpasswd'), r.stdout);
  }
  const config = join(opts.dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog: { level: info }\nstorage: { filesystem: { rootdirectory: ${join(opts.dir, 'data')} } }\nhttp: { addr: 127.0.0.1:${opts.port} }\n${auth}`,
  );
  const child = spawn('nsenter', [`--net=/run/netns/${opts.netns}`, '--', 'docker-registry', 'serve', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', kill);
  let log = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`docker-registry did not listen on 127.0.0.1:${opts.port} within 20 s:\n${log}`)),
      20_000,
    );
    const seen = (c: Buffer) => {
      log += c.toString();
      if (log.includes(`listening on 127.0.0.1:${opts.port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited (${code}):\n${log}`));
    });
  });
  await ready.catch((err: unknown) => {
    kill();
    throw err;
  });
  return {
    host: `127.0.0.1:${opts.port}`,
    pid: child.pid!,
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
      kill();
    },
  };
}
