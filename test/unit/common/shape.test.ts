import assert from 'node:assert/strict';
import { isObj, str, stringFields } from '../../../common/json/shape';

describe('shape checks of JSON from elsewhere', () => {
  it('takes only plain objects as objects, only strings as strings, and only the string fields of a map', () => {
    assert.equal(isObj({}), true);
    for (const v of [null, [], 'x', 1, undefined]) assert.equal(isObj(v), false, String(v));
    assert.equal(str('a'), 'a');
    assert.equal(str(1), undefined);
    assert.deepEqual(stringFields({ a: 'x', b: 1, c: null, d: 'y' }), { a: 'x', d: 'y' });
    assert.deepEqual(stringFields(['x']), {});
    assert.deepEqual(stringFields(undefined), {});
  });
});
