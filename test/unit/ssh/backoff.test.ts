import assert from 'node:assert/strict';
import { backoffDelay, DEFAULT_BACKOFF } from '../../../coordinator/ssh/backoff';

describe('reconnect backoff', () => {
  it('doubles from 1 s and stops at 30 s (without jitter)', () => {
    const mid = () => 0.5; // jitter factor exactly 1
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10, 100].map((a) => backoffDelay(a, DEFAULT_BACKOFF, mid)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  });

  it('spreads each delay by ±20 % and never exceeds the cap', () => {
    assert.equal(backoffDelay(0, DEFAULT_BACKOFF, () => 0), 800);
    assert.equal(backoffDelay(0, DEFAULT_BACKOFF, () => 0.999999), 1200);
    assert.equal(backoffDelay(3, DEFAULT_BACKOFF, () => 0), 6400);
    assert.equal(backoffDelay(10, DEFAULT_BACKOFF, () => 0.999999), 30000);
    assert.equal(backoffDelay(10, DEFAULT_BACKOFF, () => 0), 24000);
    for (let a = 0; a < 50; a++) {
      const d = backoffDelay(a);
      assert.ok(d >= 800 && d <= 30000, `attempt ${a}: ${d}`);
    }
  });

  it('gives different delays to clients retrying at the same moment', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(4)));
    assert.ok(delays.size > 10);
  });
});
