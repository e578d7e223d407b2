/**
 * sync-receive's side of the workspace lock: it asks the daemon (started if need be, as attach
 * does) for `workspaces/holdForSync` and keeps that connection open while it writes, so no
 * create, start, stop or remove of the workspace runs meanwhile. The answer — the folder and
 * the owner — comes from the daemon's record.
 */
import { createMessageConnection, ResponseError } from 'vscode-jsonrpc/node';
import { FrameReader } from '../../common/rpc/frameReader';
import { FrameWriter } from '../../common/rpc/frameWriter';
import { connectOrStart } from '../attach/attach';
import { AgentError } from '../errors';
import type { AgentPaths } from '../home';
import type { Logger } from '../log/logger';
import {
  AGENT_PROTOCOL_VERSION,
  AgentErrorNames,
  HoldForSync,
  Initialize,
  SyncApply,
  type AgentErrorData,
  type AgentErrorName,
  type SyncTarget,
} from '../protocol';
import { AGENT_VERSION } from '../version';

export interface SyncHold {
  target: SyncTarget;
  /** Tells the daemon what the stream wrote or deleted (passed on to a copy of the folder). */
  received(paths: readonly string[]): Promise<void>;
  /** Lets the next operation on the workspace run. */
  release(): void;
}

export async function holdForSync(paths: AgentPaths, logger: Logger, workspace: string): Promise<SyncHold> {
  const socket = await connectOrStart({ paths, logger });
  const conn = createMessageConnection(new FrameReader(socket), new FrameWriter(socket));
  conn.onError(() => undefined);
  conn.listen();
  const release = (): void => {
    conn.dispose();
    socket.destroy();
  };
  try {
    await conn.sendRequest(Initialize, {
      protocolVersion: AGENT_PROTOCOL_VERSION,
      clientName: 'sync-receive',
      clientVersion: AGENT_VERSION,
    });
    const target = await conn.sendRequest(HoldForSync, { name: workspace });
    const received = async (paths: readonly string[]): Promise<void> => {
      await conn.sendRequest(SyncApply, { name: workspace, paths: [...paths] }).catch((err: unknown) => {
        throw fromResponse(err);
      });
    };
    return { target, received, release };
  } catch (err) {
    release();
    throw fromResponse(err);
  }
}

/** The daemon's refusal as the same AgentError (code, message, hint) it was. */
function fromResponse(err: unknown): unknown {
  if (!(err instanceof ResponseError)) return err;
  const data = err.data as AgentErrorData | undefined;
  const code = Object.values(AgentErrorNames).includes(data?.code as AgentErrorName)
    ? (data!.code as AgentErrorName)
    : 'INTERNAL';
  return new AgentError(code, err.message, { ...(data?.hint ? { hint: data.hint } : {}), cause: err });
}
