/**
 * Starts the bundled coordinator (dist/vendetta.js `coordinator run`, detached, as the CLI does)
 * with the runtime runtime.ts found, and waits until its socket answers. Several windows racing
 * here are fine: the coordinator's instance lock lets one win and everyone connects to it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { ExtensionError } from '../errors';
import { openSocket } from './connection';
import type { HomeFiles } from './home';
import type { NodeRuntime } from './runtime';

export interface LaunchOptions {
  home: HomeFiles;
  cliPath: string;
  runtime: NodeRuntime;
  /** Passed on as VENDETTA_LOG_LEVEL. */
  logLevel?: string;
  timeoutMs?: number;
}

/** The argv and environment of the detached coordinator; pure, so tests can check it. */
export function coordinatorCommand(
  opts: LaunchOptions,
  baseEnv: NodeJS.ProcessEnv,
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...baseEnv, ...opts.runtime.env, VENDETTA_HOME: opts.home.root };
  if (opts.logLevel) env.VENDETTA_LOG_LEVEL = opts.logLevel;
  // VS Code's own ELECTRON_RUN_AS_NODE must not leak into a coordinator run by a real node.
  if (!opts.runtime.env.ELECTRON_RUN_AS_NODE) delete env.ELECTRON_RUN_AS_NODE;
  return { command: opts.runtime.command, args: [opts.cliPath, 'coordinator', 'run'], env };
}

export async function launchCoordinator(opts: LaunchOptions): Promise<{ pid: number | undefined }> {
  mkdirSync(opts.home.root, { recursive: true, mode: 0o700 });
  const { command, args, env } = coordinatorCommand(opts, process.env);
  const child = spawn(command, args, { detached: true, stdio: 'ignore', cwd: opts.home.root, env });
  let exitedAt: number | undefined;
  let spawnError: Error | undefined;
  child.once('exit', () => (exitedAt = Date.now()));
  child.once('error', (err) => {
    spawnError = err;
    exitedAt = Date.now();
  });
  child.unref();
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = await openSocket(opts.home.socket, 500);
    if (s) {
      s.destroy();
      return { pid: child.pid };
    }
    // It exited (another window's coordinator may have won the race): give the winner a moment.
    if (exitedAt !== undefined && Date.now() - exitedAt > 1500) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = path.join(opts.home.logsDir, 'coordinator.log');
  if (spawnError)
    throw new ExtensionError(
      `Cannot run ${opts.runtime.command}: ${spawnError.message}`,
      "Install Node.js 20 or newer, or check the extension's installation.",
      { cause: spawnError },
    );
  throw new ExtensionError(
    exitedAt !== undefined
      ? 'The coordinator exited right after it was started'
      : `The coordinator did not start within ${timeoutMs / 1000} s`,
    `See ${log}; \`vendetta coordinator stop\` stops a stuck one.`,
  );
}
