// What the offline image builds share: one exclusive build per cache entry across processes (a
// lock file holding the builder's pid, taken over when that process died), and running a
// command with its output's tail in the error.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';

export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function safeMtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** An exclusive lock file holding our pid; a lock whose owner died is taken over. */
export async function withLock(file, fn) {
  for (let waited = 0; ; waited += 500) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let owner = 0;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue;
      }
      const young = Date.now() - safeMtime(file) < 2_000;
      if (!pidAlive(owner) && !(owner === 0 && young)) {
        rmSync(file, { force: true });
        continue;
      }
      if (waited % 10_000 === 0) process.stderr.write(`waiting for the image build of pid ${owner} (${file})\n`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

/** Runs argv; a failure throws with the last 20 lines of its output. */
export function run(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...opts,
  });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${tail}`);
  }
  return r;
}
