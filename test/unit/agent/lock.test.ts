import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, isDaemonAlive, lockHolder, parseLock, releaseLock } from '../../../agent/daemon/lock';

/** A pid that certainly ran and is gone: a child that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

describe('one agent daemon per home: the pid lock', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-agent-lock-'));
    file = join(dir, 'daemon.pid');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is taken by the first comer, complete and private', () => {
    const me = { pid: process.pid, startedAt: 'now' };
    assert.deepEqual(acquireLock(file, me), { acquired: true });
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), me);
    assert.deepEqual(acquireLock(file, me), { acquired: true }, 'taking it again is harmless');
    assert.deepEqual(lockHolder(file), me);
  });

  it('is refused while its holder lives', () => {
    // A live process whose argv says `daemon`, like a real one.
    const holder = spawnSync('sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
    const sleeper = Number(holder.stdout.trim());
    try {
      writeFileSync(file, JSON.stringify({ pid: sleeper, startedAt: 'x' }));
      // `sleep 30` has no `daemon` in its argv: a reused pid, not a daemon.
      assert.equal(isDaemonAlive(sleeper), false);
      const fakeProc = join(dir, 'proc');
      mkdirSync(join(fakeProc, String(sleeper)), { recursive: true });
      mkdirSync(join(fakeProc, 'self'));
      writeFileSync(join(fakeProc, String(sleeper), 'stat'), `${sleeper} (node) S 1 2 3`);
      writeFileSync(join(fakeProc, String(sleeper), 'cmdline'), 'node\0/x/agent.js\0daemon\0');
      assert.equal(isDaemonAlive(sleeper, fakeProc), true);
      writeFileSync(join(fakeProc, String(sleeper), 'stat'), `${sleeper} (node) Z 1 2 3`);
      assert.equal(isDaemonAlive(sleeper, fakeProc), false, 'a zombie is dead');
    } finally {
      process.kill(sleeper, 'SIGKILL');
    }
  });

  it('is refused while a live daemon holds it', () => {
    // This test process stands in for the live holder; a second "process" tries to take it.
    writeFileSync(file, JSON.stringify({ pid: process.pid, startedAt: 'x' }));
    const r = acquireLock(file, { pid: process.pid + 1_000_000, startedAt: 'y' });
    assert.deepEqual(r, { acquired: false, holder: { pid: process.pid, startedAt: 'x' } });
  });

  it('replaces a stale lock: dead holder, or unreadable content', () => {
    const dead = deadPid();
    assert.equal(isDaemonAlive(dead), false);
    for (const stale of [JSON.stringify({ pid: dead, startedAt: 'old' }), 'garbage', '']) {
      writeFileSync(file, stale);
      assert.equal(lockHolder(file), undefined);
      assert.deepEqual(acquireLock(file, { pid: process.pid, startedAt: 'new' }), { acquired: true });
      assert.equal(parseLock(readFileSync(file, 'utf8'))?.startedAt, 'new');
      rmSync(file);
    }
    assert.deepEqual(readdirSync(dir), [], 'no temp or .break files left');
  });

  it('clears a .break file left by a starter that died', () => {
    writeFileSync(file, JSON.stringify({ pid: deadPid(), startedAt: 'old' }));
    writeFileSync(`${file}.break`, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.break`, old, old);
    assert.deepEqual(acquireLock(file, { pid: process.pid, startedAt: 'new' }), { acquired: true });
    assert.equal(existsSync(`${file}.break`), false);
  });

  it('is released only by its holder', () => {
    writeFileSync(file, JSON.stringify({ pid: 12345, startedAt: 'x' }));
    releaseLock(file, process.pid);
    assert.ok(existsSync(file), 'not ours: kept');
    releaseLock(file, 12345);
    assert.equal(existsSync(file), false);
    releaseLock(file, 12345); // already gone: fine
  });

  it('parses only complete lock records', () => {
    assert.deepEqual(parseLock('{"pid":5,"startedAt":"t"}'), { pid: 5, startedAt: 't' });
    for (const bad of ['{"pid":0,"startedAt":"t"}', '{"pid":"5","startedAt":"t"}', '{"pid":5}', '5', 'null', '{'])
      assert.equal(parseLock(bad), undefined, bad);
  });
});
