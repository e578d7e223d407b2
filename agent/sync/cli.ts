/** `vendetta-agent sync-receive <workspace>`: one sync stream on stdin, one JSON line on stdout. */
import { mkdirSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { AgentError, toAgentError } from '../errors';
import type { AgentPaths } from '../home';
import type { Logger } from '../log/logger';
import { workspaceStateFile } from '../workspaces/paths';
import { readWorkspaceState } from '../workspaces/state';
import { receiveSync } from './receive';

export interface SyncReceiveOptions {
  workspace: string;
  paths: AgentPaths;
  stdin: Readable;
  stdout: Writable;
  /** Gets the same error as `error:`/`hint:` lines, for a person reading a terminal. */
  stderr?: Writable;
  logger: Logger;
}

/**
 * Exit code 0 with `SyncSummary`, or 1 with `{"error": {code, message, hint}}`. Reading stops at
 * the archive's end marker; whatever padding follows is not waited for.
 */
export async function runSyncReceive(opts: SyncReceiveOptions): Promise<number> {
  const started = Date.now();
  try {
    const rec = readWorkspaceState(workspaceStateFile(opts.paths.state)).get(opts.workspace);
    if (!rec) {
      throw new AgentError('WORKSPACE_NOT_FOUND', `There is no workspace ${opts.workspace} on this node`, { hint: 'Create the workspace before syncing code into it.' });
    }
    mkdirSync(rec.nodeFolder, { recursive: true, mode: 0o755 });
    // A root agent hands the files to a non-root login user; any other agent cannot, and need not
    // when the login user shares its uid.
    const owner = process.getuid?.() === 0 ? rec.login : undefined;
    const summary = await receiveSync(rec.nodeFolder, opts.stdin as AsyncIterable<Buffer>, owner);
    opts.logger.info('sync received', { workspace: opts.workspace, ...summary, ms: Date.now() - started });
    await writeLine(opts.stdout, JSON.stringify(summary));
    return 0;
  } catch (err) {
    const e = toAgentError(err);
    opts.logger[e.code === 'INTERNAL' ? 'error' : 'info']('sync refused', { workspace: opts.workspace, code: e.code, err: e });
    await writeLine(opts.stdout, JSON.stringify({ error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }));
    if (opts.stderr) await writeLine(opts.stderr, `error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`);
    return 1;
  }
}

function writeLine(out: Writable, line: string): Promise<void> {
  return new Promise((resolve) => out.write(line + '\n', () => resolve()));
}
