import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VendettaError } from '../../../coordinator/errors';
import { runInitializeCommand } from '../../../coordinator/workspaces/initializeCommand';
import { failedSince, hookFailedError, hookRunning } from '../../../coordinator/workspaces/upHooks';
import { buildInputsHash } from '../../../coordinator/workspaces/buildInputs';

describe('lifecycle commands as `up` sees them', () => {
  it('waits for a running hook, but not for postAttach', () => {
    assert.equal(hookRunning(undefined), false);
    assert.equal(hookRunning({ postCreate: { state: 'running', at: 't' } }), true);
    assert.equal(
      hookRunning({
        postCreate: { state: 'succeeded', exitCode: 0, at: 't' },
        postAttach: { state: 'running', at: 't' },
      }),
      false,
    );
  });

  it('reports only a failure that happened after it looked', () => {
    const old = { state: 'failed' as const, exitCode: 1, at: 't1', failed: 'x' };
    assert.equal(failedSince({ postCreate: old }, { postCreate: old }), undefined, 'the same failed run as before');
    assert.deepEqual(failedSince({ postCreate: old }, { postCreate: { ...old, at: 't2' } }), {
      name: 'postCreate',
      run: { ...old, at: 't2' },
    });
    assert.deepEqual(
      failedSince(undefined, { onCreate: old, postCreate: old })?.name,
      'onCreate',
      'the first in run order',
    );
    assert.equal(failedSince(undefined, { postAttach: old }), undefined, 'postAttach never fails an up');
    const e = hookFailedError(
      'w',
      'n1',
      { name: 'postCreate', run: { ...old, exitCode: 7, failed: 'two: make' } },
      (h) => `${h}Command`,
    );
    assert.ok(e instanceof VendettaError);
    assert.equal(e.code, 'LIFECYCLE_COMMAND_FAILED');
    assert.equal(e.message, 'postCreateCommand exited with 7: two: make');
    assert.match(e.hint ?? '', /vendetta workspace logs w postCreate/);
    assert.equal(
      hookFailedError(
        'w',
        'n1',
        { name: 'postStart', run: { state: 'failed', exitCode: null, at: 't' } },
        (h) => `hooks.${h}`,
      ).message,
      'hooks.postStart could not run or was ended',
    );
  });

  it('runs initializeCommand here, in each form, and names what failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-init-'));
    try {
      const said: string[] = [];
      await runInitializeCommand('echo "in $(basename "$PWD")"; echo two > f.txt', dir, (l) => said.push(l));
      assert.deepEqual(said, [`initializeCommand: in ${dir.split('/').pop()}`]);
      assert.equal(readFileSync(join(dir, 'f.txt'), 'utf8'), 'two\n');
      said.length = 0;
      await runInitializeCommand(['printf', '%s\\n', 'a b'], dir, (l) => said.push(l));
      assert.deepEqual(said, ['initializeCommand: a b'], 'argv, no shell');
      said.length = 0;
      const err = await runInitializeCommand(
        { ok: 'echo fine', bad: ['sh', '-c', 'echo oops >&2; exit 4'] },
        dir,
        (l) => said.push(l),
      ).catch((e: unknown) => e);
      assert.ok(err instanceof VendettaError);
      assert.equal(err.message, 'initializeCommand exited with 4: bad: ["sh","-c","echo oops >&2; exit 4"]');
      assert.deepEqual(said.sort(), ['initializeCommand: bad: oops', 'initializeCommand: ok: fine']);
      const missing = await runInitializeCommand(['/no/such/tool'], dir, () => undefined).catch((e: unknown) => e);
      assert.match(
        (missing as Error).message,
        /^initializeCommand could not run \(spawn \/no\/such\/tool ENOENT\): \["\/no\/such\/tool"\]$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a built image after its build arguments and target too, but keeps old names without them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-hash-'));
    try {
      const plain = await buildInputsHash(dir, { context: '.' });
      assert.equal(await buildInputsHash(dir, { context: '.', args: {} }), plain);
      const a = await buildInputsHash(dir, { context: '.', args: { A: '1', B: '2' } });
      assert.equal(
        await buildInputsHash(dir, { context: '.', args: { B: '2', A: '1' } }),
        a,
        'order of args does not matter',
      );
      assert.notEqual(a, plain);
      assert.notEqual(await buildInputsHash(dir, { context: '.', args: { A: '2', B: '2' } }), a);
      assert.notEqual(await buildInputsHash(dir, { context: '.', target: 'dev' }), plain);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
