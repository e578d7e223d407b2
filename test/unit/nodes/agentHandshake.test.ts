import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createMessageConnection, ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import { AGENT_PROTOCOL_VERSION, AgentErrorCodes, Initialize, Shutdown } from '../../../agent/protocol';
import type { VendettaError } from '../../../coordinator/errors';
import { AgentSession } from '../../../coordinator/nodes/agentSession';
import { FrameReader } from '../../../common/rpc/frameReader';
import { FrameWriter } from '../../../common/rpc/frameWriter';

/** A session over in-memory streams, and the agent's end of them. */
function pair(handshakeTimeoutMs: number): { session: AgentSession; agent: MessageConnection; end(): void } {
  const toAgent = new PassThrough();
  const toCoordinator = new PassThrough();
  const session = new AgentSession({ nodeName: 'build-1', input: toCoordinator, output: toAgent, handshakeTimeoutMs });
  const agent = createMessageConnection(new FrameReader(toAgent), new FrameWriter(toCoordinator));
  agent.listen();
  return {
    session,
    agent,
    end: () => {
      agent.dispose();
      session.connection.dispose();
      toAgent.destroy();
      toCoordinator.destroy();
    },
  };
}

describe("the coordinator's handshake with a node's agent", () => {
  it('says the agent did not answer, and what to run, when initialize gets no answer in time', async () => {
    const { session, agent, end } = pair(60);
    agent.onRequest(Initialize, () => new Promise<never>(() => undefined));
    try {
      await assert.rejects(session.initialize(), (e: VendettaError) => {
        assert.equal(e.code, 'NODE_UNREACHABLE');
        assert.equal(e.message, 'The agent on build-1 did not answer within 0.06 s');
        assert.match(e.hint ?? '', /vendetta node test build-1/);
        return true;
      });
    } finally {
      end();
    }
  });

  it('keeps the answer of an agent that speaks its protocol, and refuses one that does not', async () => {
    const ok = pair(5_000);
    ok.agent.onRequest(Initialize, () => ({
      protocolVersion: AGENT_PROTOCOL_VERSION,
      agentVersion: '1.2.3',
      buildId: 'abc',
      pid: 7,
      startedAt: '2026-12-05T00:00:00Z',
    }));
    try {
      const result = await ok.session.initialize();
      assert.equal(result.agentVersion, '1.2.3');
      assert.equal(ok.session.initializeResult?.pid, 7);
    } finally {
      ok.end();
    }
    const old = pair(5_000);
    old.agent.onRequest(Initialize, () => ({
      protocolVersion: AGENT_PROTOCOL_VERSION + 1,
      agentVersion: '9',
      buildId: 'x',
      pid: 1,
      startedAt: '',
    }));
    try {
      await assert.rejects(old.session.initialize(), (e: VendettaError) => e.code === 'PROTOCOL_MISMATCH');
    } finally {
      old.end();
    }
  });

  it('stops a daemon of an older protocol: it refuses our handshake, takes one in its own version, then agent/shutdown', async () => {
    for (const saysVersion of [true, false]) {
      const old = pair(5_000);
      let initialized = false;
      old.agent.onRequest(Initialize, (p) => {
        if (p.protocolVersion === 1) {
          initialized = true;
          return { protocolVersion: 1, agentVersion: '0.0.1', buildId: 'old', pid: 42, startedAt: '' };
        }
        throw new ResponseError(AgentErrorCodes.ProtocolMismatch, 'The agent speaks protocol 1', {
          code: 'PROTOCOL_MISMATCH',
          ...(saysVersion ? { protocolVersion: 1 } : {}),
        });
      });
      // Like every agent: nothing but initialize before a handshake.
      old.agent.onRequest(Shutdown, () => {
        if (!initialized) throw new ResponseError(AgentErrorCodes.NotInitialized, 'not initialized', {});
        return { pid: 42 };
      });
      try {
        const refused = await old.session.initialize().then(
          () => assert.fail('an older protocol was accepted'),
          (e: VendettaError) => e,
        );
        assert.equal(refused.code, 'PROTOCOL_MISMATCH');
        if (saysVersion) {
          assert.match(refused.message, /speaks protocol 1, this coordinator speaks/);
          assert.deepEqual(await old.session.shutdownAfterMismatch(refused), { pid: 42 });
        } else {
          await assert.rejects(old.session.shutdownAfterMismatch(refused), (e) => e === refused);
          assert.equal(initialized, false);
        }
      } finally {
        old.end();
      }
    }
  });
});
