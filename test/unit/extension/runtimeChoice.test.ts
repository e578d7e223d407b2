import assert from 'node:assert/strict';
import { ResponseError } from 'vscode-jsonrpc';
import { runtimeChoice } from '../../../extension/commands/runtimeChoice';

describe('Add Node offers a Node.js for the agent when the node has none', () => {
  const missing = (offers: unknown) =>
    new ResponseError(1009, 'n1 has no Node.js', { code: 'NODE_RUNTIME_MISSING', details: { offers } });

  it('one button per offer that works there; the others said with their reason', () => {
    const c = runtimeChoice(
      missing([
        { kind: 'upload', ok: true, detail: 'upload v20 (99 MB)' },
        { kind: 'package', ok: false, detail: 'needs root' },
        { kind: 'x', ok: true, detail: 'bogus' },
      ]),
    );
    assert.deepEqual(c, {
      message: 'n1 has no Node.js. Bring the agent a Node.js?',
      detail: '• Upload: upload v20 (99 MB)\n✕ Package: needs root',
      buttons: [{ how: 'upload', label: 'Upload Node.js' }],
    });
    assert.deepEqual(
      runtimeChoice(
        missing([
          { kind: 'upload', ok: true, detail: 'a' },
          { kind: 'package', ok: true, detail: 'b' },
        ]),
      )?.buttons.map((b) => b.how),
      ['upload', 'package'],
    );
  });

  it('nothing to offer, another error, or a malformed reply: no modal', () => {
    assert.equal(runtimeChoice(missing([{ kind: 'upload', ok: false, detail: 'musl' }])), undefined);
    assert.equal(runtimeChoice(missing('nope')), undefined);
    assert.equal(runtimeChoice(new ResponseError(1005, 'down', { code: 'NODE_UNREACHABLE' })), undefined);
    assert.equal(runtimeChoice(new Error('x')), undefined);
  });
});
