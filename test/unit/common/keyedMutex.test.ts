import assert from 'node:assert/strict';
import { KeyedMutex } from '../../../common/async/keyedMutex';

describe('keyed mutex', () => {
  it('runs operations on one key one at a time, in call order, past a failure', async () => {
    const m = new KeyedMutex();
    const seen: string[] = [];
    const step =
      (name: string, fail = false) =>
      async () => {
        seen.push(`${name} start`);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      };
    const a = m.run('k', step('a', true));
    const b = m.run('k', step('b'));
    await assert.rejects(a, /a/);
    assert.equal(await b, 'b');
    assert.deepEqual(seen, ['a start', 'a end', 'b start', 'b end']);
  });

  it('runs different keys side by side', async () => {
    const m = new KeyedMutex();
    let release!: () => void;
    const held = m.run('x', () => new Promise<void>((r) => (release = r)));
    assert.equal(await m.run('y', async () => 'y'), 'y');
    release();
    await held;
  });
});
