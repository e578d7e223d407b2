/**
 * One sync stream in, one JSON line out: `vendetta-agent sync-receive <workspace>` (stdin, stdout),
 * and the daemon's sync socket (streamServer.ts), which differ only in how they hold the workspace.
 */
import { mkdirSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { toAgentError, type AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { SyncHold } from './hold';
import { receiveSync } from './receive';

export interface SyncReceiveOptions {
  workspace: string;
  /** Takes the workspace's lock (waiting for the operations before it) and says where to write. */
  hold: () => Promise<SyncHold>;
  stdin: AsyncIterable<Buffer>;
  stdout: Writable;
  /** Gets the same error as `error:`/`hint:` lines, for a person reading a terminal. */
  stderr?: Writable;
  logger: Logger;
}

/**
 * Exit code 0 with `SyncSummary`, or 1 with `{"error": {code, message, hint}}`. Runs under the
 * workspace's lock in the daemon (taken before stdin is read). Reading stops at the archive's
 * end marker; whatever padding follows is not waited for.
 */
export async function runSyncReceive(opts: SyncReceiveOptions): Promise<number> {
  const started = Date.now();
  let hold: SyncHold | undefined;
  try {
    hold = await opts.hold();
    const { nodeFolder, owner } = hold.target;
    mkdirSync(nodeFolder, { recursive: true, mode: 0o755 });
    const touched: string[] = [];
    const summary = await receiveSync(nodeFolder, opts.stdin, owner, (p) => touched.push(p));
    if (hold.target.copied && touched.length > 0) await hold.received(touched);
    opts.logger.info('sync received', { workspace: opts.workspace, ...summary, ms: Date.now() - started });
    await writeLine(opts.stdout, JSON.stringify(summary));
    return 0;
  } catch (err) {
    const e = toAgentError(err);
    opts.logger[e.code === 'INTERNAL' ? 'error' : 'info']('sync refused', {
      workspace: opts.workspace,
      code: e.code,
      err: e,
    });
    await writeLine(opts.stdout, errorLine(e));
    if (opts.stderr) await writeLine(opts.stderr, `error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`);
    return 1;
  } finally {
    hold?.release();
  }
}

/** A refusal as the receiver says it: `{"error": {code, message, hint}}`. */
export function errorLine(e: AgentError): string {
  return JSON.stringify({ error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } });
}

function writeLine(out: Writable, line: string): Promise<void> {
  return new Promise((resolve) => out.write(line + '\n', () => resolve()));
}
