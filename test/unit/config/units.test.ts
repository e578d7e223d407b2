import assert from 'node:assert/strict';
import { MAX_DURATION_MS, parseDuration, parseSize, tryParseDuration } from '../../../coordinator/config';

describe('durations and sizes', () => {
  it('reads ms, s, m and h', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('24h'), MAX_DURATION_MS);
  });

  it('refuses anything else with a message saying how to write one', () => {
    for (const bad of ['2', '1.5s', '-1s', '2 s', '', '1d', '1S', ' 1s', '1s ', 's', '99999999999999999999h']) {
      assert.throws(
        () => parseDuration(bad),
        (e: unknown) => e instanceof RangeError && /ms, s, m or h/.test(e.message),
        bad,
      );
      assert.equal(tryParseDuration(bad), undefined, bad);
    }
    assert.equal(tryParseDuration(2), undefined);
    assert.equal(tryParseDuration(null), undefined);
  });

  it('reads sizes as binary multiples', () => {
    assert.equal(parseSize('512m'), 512 * 1024 ** 2);
    assert.equal(parseSize('2G'), 2 * 1024 ** 3);
    assert.equal(parseSize('1k'), 1024);
    assert.equal(parseSize('1t'), 1024 ** 4);
    assert.equal(parseSize(4096), 4096);
    assert.equal(parseSize('4096'), 4096);
  });

  it('refuses sizes that are not', () => {
    for (const bad of ['2 gigs', '0', '1.5g', '', 'g', '-1m', 0, -5, 1.5])
      assert.throws(() => parseSize(bad), RangeError, String(bad));
  });
});
