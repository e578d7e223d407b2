import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { exitWhenFlushed } from '../../../common/process/exitWhenFlushed';

const ROOT = join(__dirname, '../../..');

/** Runs a child that writes `bytes` to stdout and ends through `how`; reads its stdout slowly. */
function run(how: 'exit' | 'exitWhenFlushed', bytes: number): Promise<{ code: number | null; got: number }> {
  const script = `
    const { exitWhenFlushed } = require(${JSON.stringify(join(ROOT, 'common/process/exitWhenFlushed.ts'))});
    process.stdout.write('x'.repeat(${bytes}));
    ${how === 'exit' ? 'process.exit(3)' : 'exitWhenFlushed(3)'};
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let got = 0;
    // A reader slower than the writer: the pipe fills and the child's write is left pending.
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (c: Buffer) => (got += c.length));
      child.stdout.resume();
    }, 300);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, got }));
  });
}

describe('exitWhenFlushed', function () {
  this.timeout(30_000);
  const BIG = 4 << 20;

  it('a plain process.exit after a big write to a pipe loses output (why the helper exists)', async () => {
    const r = await run('exit', BIG);
    assert.equal(r.code, 3);
    assert.ok(r.got < BIG, `all ${r.got} bytes arrived`);
  });

  it('keeps every byte written before it, and exits with the code', async () => {
    const r = await run('exitWhenFlushed', BIG);
    assert.deepEqual(r, { code: 3, got: BIG });
  });

  it('ends at its limit when a stream never flushes, and at once with no streams', async () => {
    const stuck = new Writable({ write: () => undefined });
    const exit = process.exit;
    const codes: number[] = [];
    (process as { exit: (c?: number) => void }).exit = (c?: number) => void codes.push(c ?? 0);
    try {
      exitWhenFlushed(4, [stuck], 50);
      exitWhenFlushed(5, []);
      const ended = new Writable({ write: (_c, _e, cb) => cb() });
      ended.end();
      exitWhenFlushed(6, [ended], 10_000);
      await new Promise((r) => setTimeout(r, 120));
      assert.deepEqual(codes.slice(0, 3).sort(), [4, 5, 6]);
    } finally {
      process.exit = exit;
    }
  });
});
