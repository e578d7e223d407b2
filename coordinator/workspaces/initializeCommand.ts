/**
 * `initializeCommand` (hooks.initialize): the one lifecycle command that runs on the user's own
 * machine, in the project folder, before anything is made on the node — as devcontainer.json
 * defines it. It is the project's own command, run as the user who runs `up`: a string through
 * `/bin/sh -c` (the form the spec gives it), a list as argv without a shell; named commands run at
 * the same time. Each output line goes out as progress; a failure names the command.
 */
import { spawn } from 'node:child_process';
import type { HookCommand } from '../config';
import { VendettaError } from '../errors';

/** The same 30 minutes the agent gives the hooks it runs. */
const INITIALIZE_TIMEOUT_MS = 30 * 60_000;

export async function runInitializeCommand(
  command: HookCommand,
  cwd: string,
  say: (line: string) => void,
): Promise<void> {
  const parts: Array<{ label?: string; command: string | string[] }> =
    typeof command === 'string' || Array.isArray(command)
      ? [{ command }]
      : Object.entries(command).map(([label, c]) => ({ label, command: c }));
  const results = await Promise.all(
    parts.map((p) =>
      runOne(p.command, cwd, (l) => say(`initializeCommand: ${p.label !== undefined ? `${p.label}: ` : ''}${l}`)),
    ),
  );
  const failedAt = results.findIndex((r) => r.code !== 0);
  if (failedAt < 0) return;
  const part = parts[failedAt]!;
  const r = results[failedAt]!;
  const shown = `${part.label !== undefined ? `${part.label}: ` : ''}${typeof part.command === 'string' ? part.command : JSON.stringify(part.command)}`;
  const how = r.error
    ? `could not run (${r.error.message})`
    : r.code === null
      ? `was ended by ${r.signal ?? 'a signal'}`
      : `exited with ${r.code}`;
  throw new VendettaError('LIFECYCLE_COMMAND_FAILED', `initializeCommand ${how}: ${shown}`, {
    hint: `It runs on this machine in ${cwd} before the workspace is made; its output is above. Fix it, then run \`vendetta up\` again.`,
    ...(r.error ? { cause: r.error } : {}),
    details: { hook: 'initialize', command: shown, lastLines: r.tail },
  });
}

interface Outcome {
  code: number | null;
  signal?: string;
  error?: Error;
  tail: string[];
}

function runOne(command: string | string[], cwd: string, say: (line: string) => void): Promise<Outcome> {
  const [file, args] = typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0]!, command.slice(1)];
  const tail: string[] = [];
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: INITIALIZE_TIMEOUT_MS });
    let error: Error | undefined;
    const lines = (stream: NodeJS.ReadableStream) => {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (pending + chunk).split('\n');
        pending = parts.pop() ?? '';
        for (const l of parts) emit(l);
      });
      stream.on('end', () => pending && emit(pending));
    };
    const emit = (l: string) => {
      const line = l.replace(/\r$/, '');
      tail.push(line);
      if (tail.length > 10) tail.shift();
      say(line);
    };
    lines(child.stdout);
    lines(child.stderr);
    child.on('error', (err) => (error = err));
    child.on('close', (code, signal) =>
      resolve({ code: error ? null : code, ...(signal ? { signal } : {}), ...(error ? { error } : {}), tail }),
    );
  });
}
