import assert from 'node:assert/strict';
import { AgentError } from '../../../agent/errors';
import { AgentErrorCodes, AgentErrorNames, agentErrorCode } from '../../../agent/protocol';

describe('the agent error table', () => {
  it('gives every error one name and one JSON-RPC code, the same on the wire', () => {
    const keys = Object.keys(AgentErrorNames);
    assert.deepEqual(Object.keys(AgentErrorCodes), keys);
    const names = Object.values(AgentErrorNames);
    const codes = Object.values(AgentErrorCodes);
    assert.equal(new Set(names).size, names.length, 'names are unique');
    assert.equal(new Set(codes).size, codes.length, 'codes are unique');
    for (const key of keys as Array<keyof typeof AgentErrorNames>) {
      const name = AgentErrorNames[key];
      assert.equal(agentErrorCode(name), AgentErrorCodes[key], key);
      const wire = new AgentError(name, 'x').toResponseError();
      assert.equal(wire.code, AgentErrorCodes[key], key);
      assert.equal(wire.data?.code, name, key);
    }
    assert.equal(AgentErrorCodes.ParseError, -32700);
    assert.equal(AgentErrorCodes.WorkspaceNotFound, 2010);
  });
});
