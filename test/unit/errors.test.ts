import assert from 'node:assert/strict';
import { ResponseError } from 'vscode-jsonrpc';
import { causeChain, causeMessages } from '../../common/errors/causes';
import { agentErrorName } from '../../coordinator/workspaces/agentReplies';
import { toVendettaError, VendettaError } from '../../coordinator/errors';
import { ErrorCodes } from '../../coordinator/protocol';

describe('errors crossing the coordinator socket', () => {
  it('keeps code, message, hint, node and causes through a ResponseError', () => {
    const root = new Error('connect ECONNREFUSED 10.0.0.1:22');
    const err = new VendettaError('NODE_UNREACHABLE', 'Cannot reach build-1', {
      hint: 'Check that the node is up.',
      node: 'build-1',
      cause: new Error('ssh handshake failed', { cause: root }),
      details: { attempt: 3 },
    });
    const wire = err.toResponseError();
    assert.equal(wire.code, ErrorCodes.NODE_UNREACHABLE);
    const back = VendettaError.fromResponseError(
      new ResponseError(wire.code, wire.message, JSON.parse(JSON.stringify(wire.data))),
    );
    assert.equal(back.code, 'NODE_UNREACHABLE');
    assert.equal(back.message, 'Cannot reach build-1');
    assert.equal(back.hint, 'Check that the node is up.');
    assert.equal(back.node, 'build-1');
    assert.deepEqual(back.details, { attempt: 3 });
    assert.deepEqual(causeMessages(back.cause), ['ssh handshake failed', 'connect ECONNREFUSED 10.0.0.1:22']);
  });

  it('maps a bare numeric code back to its name', () => {
    const back = VendettaError.fromResponseError(new ResponseError(ErrorCodes.HOST_KEY_MISMATCH, 'changed'));
    assert.equal(back.code, 'HOST_KEY_MISMATCH');
  });

  it('gives every code its own number, so each bare number maps back to its own name', () => {
    for (const [name, code] of Object.entries(ErrorCodes)) {
      const back = VendettaError.fromResponseError(new ResponseError(code, 'x'));
      assert.equal(back.code, name, `${code} maps back to ${back.code}, not ${name}`);
    }
  });

  it('turns an unknown throw into INTERNAL with a hint and the cause kept', () => {
    const e = toVendettaError(new TypeError('x is undefined'));
    assert.equal(e.code, 'INTERNAL');
    assert.ok(e.hint);
    assert.deepEqual(causeMessages(e.cause), ['x is undefined']);
    assert.equal(toVendettaError('plain string').message, 'plain string');
  });
});

describe('cause chains', () => {
  it('walks an error and its causes outermost first, and stops after ten links of a cycle', () => {
    const inner = new Error('inner');
    const outer = new Error('outer', { cause: inner });
    assert.deepEqual([...causeChain(outer)], [outer, inner]);
    const loop = new Error('loop');
    (loop as { cause?: unknown }).cause = loop;
    assert.equal([...causeChain(loop)].length, 10);
    assert.deepEqual(causeMessages('a plain string'), ['a plain string']);
  });

  it("finds the agent's stable error name under the errors wrapped around its reply", () => {
    const reply = new ResponseError(2010, 'no such workspace', { code: 'WORKSPACE_NOT_FOUND' });
    const wrapped = new VendettaError('WORKSPACE_NOT_FOUND', 'The agent refused', {
      cause: new Error('call', { cause: reply }),
    });
    assert.equal(agentErrorName(wrapped), 'WORKSPACE_NOT_FOUND');
    assert.equal(agentErrorName(new Error('no reply below')), undefined);
    assert.equal(agentErrorName(new ResponseError(1, 'no name', { hint: 'x' })), undefined);
  });
});
