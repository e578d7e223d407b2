import assert from 'node:assert/strict';
import { withTimeout } from '../../../common/async/timeout';

describe('bounding a wait', () => {
  it('passes a prompt answer through', async () => {
    assert.equal(await withTimeout(Promise.resolve(7), 1_000), 7);
    await assert.rejects(withTimeout(Promise.reject(new Error('boom')), 1_000), /boom/);
  });

  it('gives up with the caller’s error when no answer comes', async () => {
    const t0 = Date.now();
    await assert.rejects(
      withTimeout(new Promise(() => undefined), 50, () => new Error('too slow')),
      /too slow/,
    );
    assert.ok(Date.now() - t0 < 1_000);
  });
});
