import assert from 'node:assert/strict';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { signalOf } from '../../../agent/daemon/connection';

describe('agent requests: a cancelled request aborts what it asked of providers', () => {
  it('aborts the signal when the client cancels, and starts aborted for a token already cancelled', () => {
    const source = new CancellationTokenSource();
    const signal = signalOf(source.token);
    assert.equal(signal.aborted, false);
    source.cancel();
    assert.equal(signal.aborted, true);
    assert.equal(signalOf(source.token).aborted, true);
  });
});
