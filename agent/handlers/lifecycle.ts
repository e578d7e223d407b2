/** initialize, agent/ping, agent/shutdown. */
import { AGENT_PROTOCOL_VERSION, type InitializeParams, type InitializeResult, type PingResult } from '../protocol';
import { AgentError } from '../errors';
import type { HandlerSpec } from '../daemon/context';
import { expectNoParams, validateInitializeParams } from './validate';

export const initialize: HandlerSpec<InitializeParams, InitializeResult> = {
  beforeInitialize: true,
  validate: validateInitializeParams,
  handle(params, { daemon, session }) {
    if (params.protocolVersion !== AGENT_PROTOCOL_VERSION) {
      throw protocolMismatch(params, daemon.version);
    }
    session.initialized = true;
    session.client = { name: params.clientName, version: params.clientVersion };
    daemon.logger.info('client initialized', {
      connection: session.connectionId,
      client: params.clientName,
      clientVersion: params.clientVersion,
    });
    return {
      protocolVersion: AGENT_PROTOCOL_VERSION,
      agentVersion: daemon.version,
      buildId: daemon.buildId,
      pid: daemon.pid,
      startedAt: daemon.startedAt,
      ...daemon.endpoint,
    };
  },
};

export function protocolMismatch(params: InitializeParams, agentVersion: string): AgentError {
  const agentOlder = params.protocolVersion > AGENT_PROTOCOL_VERSION;
  const hint = agentOlder
    ? `The agent on this node is older (${agentVersion}, protocol ${AGENT_PROTOCOL_VERSION}) than ${params.clientName} ${params.clientVersion} (protocol ${params.protocolVersion}): upgrade the agent — stop it with agent/shutdown and attach with the newer bundle (the coordinator does this on connect).`
    : `${params.clientName} ${params.clientVersion} (protocol ${params.protocolVersion}) is older than the agent on this node (${agentVersion}, protocol ${AGENT_PROTOCOL_VERSION}): upgrade vendetta on the machine running the coordinator.`;
  return new AgentError(
    'PROTOCOL_MISMATCH',
    `The agent speaks protocol ${AGENT_PROTOCOL_VERSION}, ${params.clientName} speaks ${params.protocolVersion}`,
    {
      hint,
      data: { protocolVersion: AGENT_PROTOCOL_VERSION, agentVersion },
    },
  );
}

export const ping: HandlerSpec<undefined, PingResult> = {
  validate: expectNoParams('agent/ping'),
  handle: () => ({ now: Date.now() }),
};

export const shutdown: HandlerSpec<undefined, { pid: number }> = {
  validate: expectNoParams('agent/shutdown'),
  handle(_params, { daemon, session }) {
    daemon.requestShutdown(
      `agent/shutdown from connection ${session.connectionId} (${session.client?.name ?? 'unknown client'})`,
    );
    return { pid: daemon.pid };
  },
};
