/**
 * `exec`: one command in a workspace, over the SSH session the server keeps with it. argv runs as
 * given (each word quoted); `command` is a shell line for sh. Output is capped (head and tail
 * kept, the cut counted in the text); the command is sent TERM, then KILL, at its timeout.
 */
import { z } from 'zod';
import { VendettaError } from '../../errors';
import { shellQuote } from '../../ssh/shellQuote';
import { pathInFolder } from '../folderPaths';
import type { RunResult } from '../workspaceSessions';
import { refOf, tool, workspaceArg, type ToolSpec } from './toolSpec';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const EXEC_DEFAULTS = { timeoutSeconds: 120, maxOutputBytes: 64 * 1024 };

/**
 * The command line for the workspace user's shell: cd, exports, then the command — under
 * `timeout` when the workspace has it (coreutils, busybox), which signals the command's whole
 * process group at the deadline (TERM, then KILL 2 s later). OpenSSH's sshd would not end a
 * session whose command ignores the channel closing, so the deadline is kept in the workspace.
 */
export function execCommandLine(
  folder: string,
  a: {
    argv?: string[] | undefined;
    command?: string | undefined;
    cwd?: string | undefined;
    env?: Record<string, string> | undefined;
  },
  timeoutSeconds: number,
): string {
  if ((a.argv === undefined) === (a.command === undefined)) {
    throw new VendettaError('INVALID_PARAMS', 'Give exactly one of argv (a list of words) and command (a shell line)', {
      hint: 'e.g. {"argv": ["ls", "-la"]} or {"command": "ls -la | head"}.',
    });
  }
  const argv = a.argv ?? ['sh', '-c', a.command!];
  if (argv.length === 0)
    throw new VendettaError('INVALID_PARAMS', 'argv is empty', {
      hint: 'Put the program first, e.g. ["npm", "test"].',
    });
  const cwd = a.cwd === undefined ? folder : pathInFolder(folder, a.cwd);
  const parts = [`cd ${shellQuote(cwd)}`];
  for (const [k, v] of Object.entries(a.env ?? {})) {
    if (!ENV_NAME.test(k))
      throw new VendettaError('INVALID_PARAMS', `Invalid environment variable name ${JSON.stringify(k.slice(0, 40))}`, {
        hint: 'Names are letters, digits and _, not starting with a digit.',
      });
    parts.push(`export ${k}=${shellQuote(v)}`);
  }
  const cmd = argv.map(shellQuote).join(' ');
  const secs = String(Math.max(1, Math.ceil(timeoutSeconds)));
  return `${parts.join(' && ')} && if command -v timeout >/dev/null 2>&1; then exec timeout -k 2 ${secs} ${cmd}; else exec ${cmd}; fi`;
}

export function formatRun(r: RunResult, timeoutSeconds: number): string {
  const status = r.timedOut
    ? `killed after the ${timeoutSeconds} s timeout`
    : r.exitCode === null
      ? `killed by signal ${r.signal ?? '?'}`
      : `exit code ${r.exitCode}`;
  const out = [`${status} (${(r.durationMs / 1000).toFixed(1)} s)`];
  if (r.stdout.totalBytes) out.push(`--- stdout ---\n${r.stdout.text()}`);
  if (r.stderr.totalBytes) out.push(`--- stderr ---\n${r.stderr.text()}`);
  return out.join('\n');
}

export const execTool: ToolSpec = tool({
  name: 'exec',
  title: 'Run a command',
  description:
    'Run a command in a workspace (argv, or a shell line as command) and get its stdout, stderr and exit code; runs in the project folder unless cwd says otherwise.',
  kind: 'write',
  input: {
    ...workspaceArg,
    argv: z
      .array(z.string())
      .min(1)
      .optional()
      .describe('The program and its arguments, run without a shell, e.g. ["npm", "test"].'),
    command: z
      .string()
      .min(1)
      .optional()
      .describe('A shell line for sh -c instead of argv, e.g. "npm test 2>&1 | tail -50".'),
    cwd: z
      .string()
      .optional()
      .describe('Working folder, relative to the project folder (or absolute inside it); default the project folder.'),
    env: z.record(z.string(), z.string()).optional().describe('Extra environment variables.'),
    timeoutSeconds: z
      .number()
      .positive()
      .max(3600)
      .optional()
      .describe(`Kill the command after this many seconds (default ${EXEC_DEFAULTS.timeoutSeconds}).`),
    maxOutputBytes: z
      .number()
      .int()
      .min(1024)
      .max(4 << 20)
      .optional()
      .describe(
        `Cap on each of stdout and stderr; beyond it the middle is cut (default ${EXEC_DEFAULTS.maxOutputBytes}).`,
      ),
  },
  async run(a, ctx) {
    const ref = refOf(a);
    const session = await ctx.sessions.get(ref);
    const timeoutSeconds = a.timeoutSeconds ?? EXEC_DEFAULTS.timeoutSeconds;
    const line = execCommandLine(session.info.workspaceFolder, a, timeoutSeconds);
    const r = await ctx.sessions.run(ref, line, {
      maxBytes: a.maxOutputBytes ?? EXEC_DEFAULTS.maxOutputBytes,
      timeoutMs: timeoutSeconds * 1000,
    });
    return {
      text: formatRun(r, timeoutSeconds),
      structured: {
        exitCode: r.exitCode,
        ...(r.signal ? { signal: r.signal } : {}),
        timedOut: r.timedOut,
        stdout: r.stdout.text(),
        stderr: r.stderr.text(),
        truncated: r.stdout.cutBytes > 0 || r.stderr.cutBytes > 0,
        durationMs: r.durationMs,
      },
      workspace: r.info.name,
      node: r.info.node,
      exitCode: r.exitCode,
    };
  },
});
