/**
 * postCreate (once per workspace) and postStart (on each services start): run inside the
 * workspace like a service, as the login user in the workspace folder, output in the logs
 * under the hook's name.
 */
import type { HookRun, ServiceCommand, ServiceLogLine } from '../protocol';
import type { ExecOptions, ExecResult } from '../providers/contract';
import { LineSplitter } from './logFiles';
import { commandArgv } from './processControl';

export type HookName = 'postCreate' | 'postStart';

/** Hooks may install things; they get long, but not forever. */
export const HOOK_TIMEOUT_MS = 30 * 60_000;

export async function runHook(
  name: HookName,
  command: ServiceCommand,
  exec: (argv: string[], opts: ExecOptions) => Promise<ExecResult>,
  log: (line: ServiceLogLine) => void,
  onState: (run: HookRun) => void,
): Promise<HookRun> {
  const line = (stream: ServiceLogLine['stream']) => (l: string) => log({ time: new Date().toISOString(), service: name, stream, line: l });
  const out = new LineSplitter(line('stdout'));
  const err = new LineSplitter(line('stderr'));
  line('system')(`running: ${typeof command === 'string' ? command : JSON.stringify(command)}`);
  onState({ state: 'running', at: new Date().toISOString() });
  let exitCode: number | null = null;
  try {
    exitCode = (await exec(commandArgv(command), { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c), timeoutMs: HOOK_TIMEOUT_MS })).exitCode;
  } catch (e) {
    line('system')(`could not run: ${e instanceof Error ? e.message : String(e)}`);
  }
  out.flush();
  err.flush();
  const run: HookRun = { state: exitCode === 0 ? 'succeeded' : 'failed', exitCode, at: new Date().toISOString() };
  line('system')(`${run.state} (exit code ${exitCode ?? 'unknown'})`);
  onState(run);
  return run;
}
