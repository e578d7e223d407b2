import assert from 'node:assert/strict';
import { backoffDelay, DEFAULT_BACKOFF, RetrySchedule } from '../../../coordinator/ssh/backoff';

describe('reconnect backoff', () => {
  it('doubles from 1 s and stops at 30 s (without jitter)', () => {
    const mid = () => 0.5; // jitter factor exactly 1
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 10, 100].map((a) => backoffDelay(a, DEFAULT_BACKOFF, mid)),
      [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000],
    );
  });

  it('spreads each delay by ±20 % and never exceeds the cap', () => {
    assert.equal(
      backoffDelay(0, DEFAULT_BACKOFF, () => 0),
      800,
    );
    assert.equal(
      backoffDelay(0, DEFAULT_BACKOFF, () => 0.999999),
      1200,
    );
    assert.equal(
      backoffDelay(3, DEFAULT_BACKOFF, () => 0),
      6400,
    );
    assert.equal(
      backoffDelay(10, DEFAULT_BACKOFF, () => 0.999999),
      30000,
    );
    assert.equal(
      backoffDelay(10, DEFAULT_BACKOFF, () => 0),
      24000,
    );
    for (let a = 0; a < 50; a++) {
      const d = backoffDelay(a);
      assert.ok(d >= 800 && d <= 30000, `attempt ${a}: ${d}`);
    }
  });

  it('gives different delays to clients retrying at the same moment', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(4)));
    assert.ok(delays.size > 10);
  });

  it('keeps one retry pending at a time, longer each time, until a success resets it', async () => {
    const schedule = new RetrySchedule({ initialMs: 10, maxMs: 1000, factor: 2, jitter: 0 });
    let runs = 0;
    const retry = async (): Promise<void> => {
      runs++;
      throw new Error('still down'); // its failure is the caller's to handle: nothing escapes
    };
    assert.equal(schedule.schedule(retry), 10);
    assert.equal(schedule.schedule(retry), undefined, 'one pending already');
    assert.equal(schedule.pending, true);
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(runs, 1);
    assert.equal(schedule.pending, false);
    assert.equal(schedule.schedule(retry), 20);
    schedule.cancel();
    assert.equal(schedule.pending, false);
    schedule.skipTo(5);
    assert.equal(schedule.schedule(retry), 320, 'a slow failure waits as long as attempt 5');
    assert.equal(schedule.attempts, 6);
    schedule.reset();
    assert.equal(schedule.attempts, 0);
    assert.equal(schedule.pending, false);
    assert.equal(schedule.schedule(retry), 10);
    schedule.cancel();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(runs, 1, 'a cancelled retry never runs');
  });
});
