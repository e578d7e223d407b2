/**
 * The lifecycle hooks (onCreate, updateContent, postCreate once per workspace; postStart on each
 * services start; postAttach on each SSH connection): run inside the workspace like a service, as
 * the login user in the workspace folder, output in the logs under the hook's name. A hook is the
 * Dev Container Features' commands of its kind, in install order, then the project's own; each
 * runs after the one before succeeded. The object form runs its named commands at the same time,
 * each line of output led by the command's name; a failure names the command (and its feature).
 */
import {
  HOOK_NAMES,
  type FeatureHooks,
  type HookCommand,
  type HookName,
  type HookRun,
  type HookStep,
  type ServiceCommand,
  type ServiceLogLine,
  type WorkspaceHooksSpec,
} from '../protocol';
import type { ExecOptions, ExecResult } from '../providers/contract';
import { LineSplitter } from './logFiles';
import { commandArgv } from './processControl';

/** Hooks may install things; they get long, but not forever. */
export const HOOK_TIMEOUT_MS = 30 * 60_000;

type Exec = (argv: string[], opts: ExecOptions) => Promise<ExecResult>;

/** `npm ci` or `["npm","ci"]` as written, for messages. */
export function showCommand(command: ServiceCommand): string {
  return typeof command === 'string' ? command : JSON.stringify(command);
}

/** The named commands of a hook: one unnamed for the single form. */
export function hookParts(command: HookCommand): Array<{ label?: string; command: ServiceCommand }> {
  if (typeof command === 'string' || Array.isArray(command)) return [{ command }];
  return Object.entries(command).map(([label, c]) => ({ label, command: c }));
}

export type HookSteps = Partial<Record<HookName, HookStep[]>>;

/** Each hook's commands: the features' first (in install order), then the project's (the spec's). */
export function hookSteps(own: WorkspaceHooksSpec | undefined, features: readonly FeatureHooks[] = []): HookSteps {
  const out: HookSteps = {};
  for (const name of HOOK_NAMES) {
    const steps: HookStep[] = features.flatMap((f) => {
      const command = f.hooks[name];
      return command === undefined ? [] : [{ command, feature: f.feature }];
    });
    const mine = own?.[name];
    if (mine !== undefined) steps.push({ command: mine });
    if (steps.length) out[name] = steps;
  }
  return out;
}

export async function runHook(
  name: HookName,
  steps: readonly HookStep[],
  exec: Exec,
  log: (line: ServiceLogLine) => void,
  onState: (run: HookRun) => void,
): Promise<HookRun> {
  const system = (l: string) => log({ time: new Date().toISOString(), service: name, stream: 'system', line: l });
  onState({ state: 'running', at: new Date().toISOString() });
  let run: HookRun = { state: 'succeeded', exitCode: 0, at: '' };
  /** Where it failed, for the last log line: the named command, the feature. */
  let where = '';
  for (const step of steps) {
    const from = step.feature !== undefined ? `the feature ${step.feature}'s ` : '';
    if (step.feature !== undefined) system(`${from}command`);
    const parts = hookParts(step.command);
    const results = await Promise.all(parts.map((p) => runPart(name, p, exec, log)));
    const failedAt = results.findIndex((r) => r !== 0);
    if (failedAt < 0) continue;
    const failed = parts[failedAt]!;
    const exitCode = results[failedAt]!;
    run = {
      state: 'failed',
      exitCode,
      at: '',
      failed: `${from}${failed.label !== undefined ? `${failed.label}: ` : ''}${showCommand(failed.command)}`,
    };
    const names = [
      ...(parts.length > 1 ? [failed.label!] : []),
      ...(step.feature !== undefined ? [`the feature ${step.feature}`] : []),
    ];
    where = names.length ? ` in ${names.join(' of ')}` : '';
    break;
  }
  run.at = new Date().toISOString();
  system(`${run.state} (exit code ${run.exitCode ?? 'unknown'})${where}`);
  onState(run);
  return run;
}

/** One command of a hook; its exit code, or null when it could not run. */
async function runPart(
  name: HookName,
  part: { label?: string; command: ServiceCommand },
  exec: Exec,
  log: (line: ServiceLogLine) => void,
): Promise<number | null> {
  const lead = part.label !== undefined ? `${part.label}: ` : '';
  const line = (stream: ServiceLogLine['stream']) => (l: string) =>
    log({ time: new Date().toISOString(), service: name, stream, line: lead + l });
  const out = new LineSplitter(line('stdout'));
  const err = new LineSplitter(line('stderr'));
  line('system')(`running: ${showCommand(part.command)}`);
  let exitCode: number | null = null;
  try {
    exitCode = (
      await exec(commandArgv(part.command), {
        onStdout: (c) => out.push(c),
        onStderr: (c) => err.push(c),
        timeoutMs: HOOK_TIMEOUT_MS,
      })
    ).exitCode;
  } catch (e) {
    line('system')(`could not run: ${e instanceof Error ? e.message : String(e)}`);
  }
  out.flush();
  err.flush();
  if (part.label !== undefined) line('system')(`exit code ${exitCode ?? 'unknown'}`);
  return exitCode;
}
