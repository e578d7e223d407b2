/** Running argv inside a container through the Engine API's exec endpoints. */
import type { Socket } from 'node:net';
import { AgentError } from '../../errors';
import type { ExecOptions, ExecResult } from '../contract';
import { dockerCalls, execCreateBody } from './api';
import { EngineHttpError, type EngineClient } from './engine';
import { parseExecInspect, parseIdReply } from './parse';
import { Demuxer, TailBuffer, type StreamKind } from './stream';

const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
/** Output kept when the caller gives no sink. */
const COLLECT_MAX = 1024 * 1024;

export async function dockerExec(
  engine: EngineClient,
  containerId: string,
  argv: string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  if (argv.length === 0) throw new Error('exec: empty argv');
  const tty = opts.tty === true;
  const created = await engine.json(
    dockerCalls.execCreate(
      containerId,
      execCreateBody({
        argv,
        user: opts.user,
        env: opts.env,
        workingDir: opts.workingDir,
        tty,
        stdin: opts.stdin !== undefined,
      }),
    ),
    { timeoutMs: 15_000, signal: opts.signal },
  );
  if (created.status === 404)
    throw new AgentError('WORKSPACE_MISSING', `The container ${containerId.slice(0, 12)} no longer exists`, {
      provider: 'docker',
    });
  if (created.status === 409)
    throw new AgentError('WORKSPACE_NOT_RUNNING', `The container ${containerId.slice(0, 12)} is not running`, {
      provider: 'docker',
      hint: 'Start the workspace first.',
    });
  const execId = parseIdReply(created.value, 'an exec create reply');

  const collected: Record<StreamKind, TailBuffer> = {
    stdout: new TailBuffer(COLLECT_MAX),
    stderr: new TailBuffer(COLLECT_MAX),
  };
  const sink = (kind: StreamKind, data: Buffer): void => {
    const to = kind === 'stdout' ? opts.onStdout : opts.onStderr;
    if (to) to(data);
    else collected[kind].push(data);
  };
  // With a TTY the engine sends one raw stream; without, stdout and stderr multiplexed.
  const demux = new Demuxer(sink);
  const onOutput = (chunk: Buffer): void => (tty ? sink('stdout', chunk) : demux.push(chunk));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;

  if (opts.stdin !== undefined) {
    const { socket, head } = await engine.hijack(dockerCalls.execStart(execId, tty), timeoutMs);
    await pumpHijacked(socket, head, opts.stdin, onOutput, timeoutMs, opts.signal);
  } else {
    // Cancelling stops the reading; the engine has no call that ends an exec's process.
    await engine.send(dockerCalls.execStart(execId, tty), { onChunk: onOutput, timeoutMs, signal: opts.signal });
  }
  return {
    exitCode: await exitCodeOf(engine, execId),
    stdout: collected.stdout.toString(),
    stderr: collected.stderr.toString(),
  };
}

/** Writes stdin, half-closes (the command sees EOF), and reads output until the engine closes. */
function pumpHijacked(
  socket: Socket,
  head: Buffer,
  stdin: AsyncIterable<Buffer> | Buffer,
  onOutput: (c: Buffer) => void,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (message: string): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new AgentError('PROVIDER_ERROR', message, { provider: 'docker' }));
    };
    const timer = setTimeout(
      () => fail(`A command in the container did not finish within ${timeoutMs / 1000} s`),
      timeoutMs,
    );
    if (signal?.aborted) return fail('A command in the container was cancelled');
    signal?.addEventListener('abort', () => fail('A command in the container was cancelled'), { once: true });
    if (head.length) onOutput(head);
    socket.on('data', onOutput);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    void (async () => {
      try {
        if (Buffer.isBuffer(stdin)) socket.write(stdin);
        else for await (const c of stdin) if (!socket.write(c)) await new Promise((r) => socket.once('drain', r));
        socket.end();
      } catch (err) {
        socket.destroy(err as Error);
      }
    })();
  });
}

/** The engine may record the exit code a moment after the output stream closes. */
async function exitCodeOf(engine: EngineClient, execId: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const r = parseExecInspect((await engine.json(dockerCalls.execInspect(execId), { timeoutMs: 10_000 })).value);
      if (!r.running && r.exitCode !== null) return r.exitCode;
    } catch (err) {
      if (!(err instanceof EngineHttpError)) throw err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new AgentError(
    'PROVIDER_ERROR',
    'A command in the container ended, but the engine did not report its exit code',
    { provider: 'docker' },
  );
}
