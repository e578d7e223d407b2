import assert from 'node:assert/strict';
import { CancellationToken } from 'vscode-jsonrpc';
import { AGENT_PROTOCOL_VERSION, AgentErrorCodes, type NodeInfo } from '../../../agent/protocol';
import { AgentError } from '../../../agent/errors';
import { handlers } from '../../../agent/handlers';
import { AGENT_REQUESTS } from '../../../agent/protocol/requests';
import { expectNoParams, validateInitializeParams } from '../../../agent/handlers/validate';
import type { DaemonContext, HandlerContext, SessionState } from '../../../agent/daemon/context';
import { dispatch } from '../../../agent/daemon/dispatch';
import { agentPaths } from '../../../agent/home';
import { nullLogger } from '../../../agent/log/logger';
import { WorkspaceManager } from '../../../agent/workspaces/manager';
import { attachServices } from '../../../agent/services/attach';
import { PortWatch } from '../../../agent/workspaces/portWatch';

function context(): { ctx: HandlerContext; shutdowns: string[] } {
  const shutdowns: string[] = [];
  const workspaces = new WorkspaceManager({
    home: '/nonexistent/agent-home',
    stateDir: '/nonexistent/agent-home/state',
    logger: nullLogger,
    providers: () => {
      throw new AgentError('PROVIDER_UNAVAILABLE', 'no providers in this test');
    },
  });
  const daemon: DaemonContext = {
    pid: 4242,
    startedAt: '2026-01-01T00:00:00.000Z',
    buildId: 'abcdef012345',
    version: '9.9.9',
    paths: agentPaths('/nonexistent/agent-home'),
    logger: nullLogger,
    nodeInfo: () => Promise.resolve({ agentVersion: '9.9.9' } as NodeInfo),
    workspaces,
    services: attachServices(workspaces, nullLogger, () => undefined),
    ports: new PortWatch({
      logger: nullLogger,
      targets: () => [],
      watching: () => false,
      broadcast: () => undefined,
    }),
    requestShutdown: (reason) => shutdowns.push(reason),
  };
  const session: SessionState = { connectionId: 1, initialized: false };
  return { ctx: { daemon, session, token: CancellationToken.None, signal: new AbortController().signal }, shutdowns };
}

const init = { protocolVersion: AGENT_PROTOCOL_VERSION, clientName: 'test', clientVersion: '1.0.0' };

async function rejects(p: Promise<unknown>, code: string): Promise<AgentError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AgentError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('agent requests are checked before any handler runs', () => {
  it('refuses everything but initialize before initialize', async () => {
    const { ctx } = context();
    for (const method of ['agent/ping', 'node/inspect', 'agent/shutdown', 'no/such']) {
      const err = await rejects(dispatch(handlers, method, undefined, ctx), 'NOT_INITIALIZED');
      assert.equal(err.toResponseError().code, AgentErrorCodes.NotInitialized);
      assert.match(err.hint!, /initialize first/);
    }
  });

  it('initializes with the matching protocol and then serves', async () => {
    const { ctx, shutdowns } = context();
    assert.deepEqual(await dispatch(handlers, 'initialize', init, ctx), {
      protocolVersion: AGENT_PROTOCOL_VERSION,
      agentVersion: '9.9.9',
      buildId: 'abcdef012345',
      pid: 4242,
      startedAt: '2026-01-01T00:00:00.000Z',
    });
    assert.equal(ctx.session.initialized, true);
    const pong = (await dispatch(handlers, 'agent/ping', undefined, ctx)) as { now: number };
    assert.ok(Math.abs(pong.now - Date.now()) < 5000);
    assert.deepEqual(await dispatch(handlers, 'node/inspect', {}, ctx), { agentVersion: '9.9.9' });
    assert.deepEqual(await dispatch(handlers, 'agent/shutdown', [], ctx), { pid: 4242 });
    assert.equal(shutdowns.length, 1);
    await rejects(dispatch(handlers, 'no/such', undefined, ctx), 'METHOD_NOT_FOUND');
    await rejects(dispatch(handlers, 'toString', undefined, ctx), 'METHOD_NOT_FOUND');
  });

  it("routes each request constant's method to the handler of its name, every method once", async () => {
    const methods = Object.values(AGENT_REQUESTS).map((t) => t.method);
    assert.equal(new Set(methods).size, methods.length);
    assert.deepEqual(Object.keys(handlers).sort(), Object.keys(AGENT_REQUESTS).sort());
    const { ctx } = context();
    ctx.session.initialized = true;
    for (const [name, type] of Object.entries(AGENT_REQUESTS)) {
      const seen: unknown[] = [];
      const table = {
        ...handlers,
        [name]: { validate: (p: unknown) => p, handle: (p: unknown) => (seen.push(p), name) },
      } as typeof handlers;
      assert.equal(await dispatch(table, type.method, { probe: name }, ctx), name);
      assert.deepEqual(seen, [{ probe: name }]);
    }
  });

  it('refuses another protocol version with a hint naming what to upgrade', async () => {
    const { ctx } = context();
    const newer = await rejects(
      dispatch(handlers, 'initialize', { ...init, protocolVersion: AGENT_PROTOCOL_VERSION + 1 }, ctx),
      'PROTOCOL_MISMATCH',
    );
    assert.match(newer.hint!, /upgrade the agent/);
    const wire = newer.toResponseError();
    assert.equal(wire.code, AgentErrorCodes.ProtocolMismatch);
    assert.deepEqual(
      { code: wire.data!.code, pv: wire.data!.protocolVersion, av: wire.data!.agentVersion },
      { code: 'PROTOCOL_MISMATCH', pv: AGENT_PROTOCOL_VERSION, av: '9.9.9' },
    );
    const older = await rejects(
      dispatch(handlers, 'initialize', { ...init, protocolVersion: 0 }, ctx),
      'PROTOCOL_MISMATCH',
    );
    assert.match(older.hint!, /upgrade vendetta on the machine running the coordinator/);
    assert.equal(ctx.session.initialized, false);
  });

  it('validates initialize params', () => {
    assert.deepEqual(validateInitializeParams({ ...init, extra: true }), init);
    const bad: unknown[] = [
      undefined,
      null,
      [],
      'x',
      { ...init, protocolVersion: '1' },
      { ...init, protocolVersion: 1.5 },
      { ...init, protocolVersion: -1 },
      { ...init, clientName: '' },
      { ...init, clientName: 'a'.repeat(201) },
      { ...init, clientName: 'evil\nname' },
      { ...init, clientVersion: 3 },
      { protocolVersion: 1 },
    ];
    for (const params of bad) {
      assert.throws(
        () => validateInitializeParams(params),
        (err: unknown) =>
          err instanceof AgentError && err.code === 'INVALID_PARAMS' && err.toResponseError().code === -32602,
        JSON.stringify(params),
      );
    }
  });

  it('accepts "no params" in every spelling and nothing else', () => {
    const none = expectNoParams('agent/ping');
    for (const ok of [undefined, null, [], {}]) assert.equal(none(ok), undefined);
    for (const bad of [[1], { a: 1 }, 'x', 0]) {
      assert.throws(() => none(bad), /Invalid params for agent\/ping: it takes no parameters/);
    }
  });
});
