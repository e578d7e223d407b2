/** Runs the bundled CLI (dist/vendetta.js) for what the coordinator does not serve over RPC. */
import { execFile } from 'node:child_process';
import { ExtensionError } from '../errors';
import type { NodeRuntime } from './runtime';

export function runCli(
  runtime: NodeRuntime,
  cliPath: string,
  home: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...runtime.env, VENDETTA_HOME: home };
  return new Promise((resolve, reject) => {
    execFile(
      runtime.command,
      [cliPath, ...args],
      { env, timeout: timeoutMs, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const error = /^error: (.*)$/m.exec(stderr)?.[1] ?? err.message;
        const hint = /^hint: (.*)$/m.exec(stderr)?.[1];
        reject(new ExtensionError(`vendetta ${args.join(' ')}: ${error}`, hint, { cause: err }));
      },
    );
  });
}
