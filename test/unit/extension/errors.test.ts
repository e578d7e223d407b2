import assert from 'node:assert/strict';
import { ResponseError } from 'vscode-jsonrpc';
import { CancelledError, ExtensionError, errorInfo, failureDetail, failureLine } from '../../../extension/errors';

describe('the extension reports a failure in one line and logs the whole chain', () => {
  const fromCoordinator = new ResponseError(1005, 'The node b1 does not answer.', {
    code: 'NODE_UNREACHABLE',
    hint: 'Is sshd running on b1?',
    causes: ['connect ECONNREFUSED 10.0.0.5:22'],
  });

  it('one line: Failed to <action>: <reason>. <hint>', () => {
    assert.equal(
      failureLine('stop workspace shop', fromCoordinator),
      'Failed to stop workspace shop: The node b1 does not answer. Is sshd running on b1?',
    );
    assert.equal(failureLine('add the node', new Error('boom\n  at x')), 'Failed to add the node: boom at x');
  });

  it('the log gets the code, hint and causes', () => {
    const detail = failureDetail('stop workspace shop', fromCoordinator);
    assert.match(detail, /code: NODE_UNREACHABLE/);
    assert.match(detail, /hint: Is sshd running on b1\?/);
    assert.match(detail, /caused by: connect ECONNREFUSED 10\.0\.0\.5:22/);
    const own = failureDetail('open', new ExtensionError('outer', 'do this', { cause: new Error('inner') }));
    assert.match(own, /hint: do this/);
    assert.match(own, /caused by: inner/);
  });

  it('cancellation is recognized, from the user or from the coordinator', () => {
    assert.equal(errorInfo(new CancelledError()).cancelled, true);
    assert.equal(errorInfo(new ResponseError(1016, 'cancelled', { code: 'CANCELLED' })).cancelled, true);
    assert.equal(errorInfo(new ResponseError(-32800, 'Request cancelled')).cancelled, true);
    assert.equal(errorInfo(fromCoordinator).cancelled, false);
  });

  it('"method not found" means an older coordinator', () => {
    assert.equal(errorInfo(new ResponseError(-32601, 'Unhandled method services/list')).methodNotFound, true);
  });
});
