/**
 * A command in an LXD instance, over the exec operation's websockets (stdin, stdout, stderr and
 * control), so output streams as it comes and stdin can be fed: what services and `logs -f`
 * need. LXD waits until all four are connected before it starts the command; the exit code is
 * the operation's `return` once it ends. Hand-written around `ws` because the protocol is LXD's
 * own (no client library for it runs in Node).
 */
import WebSocket from 'ws';
import { AgentError } from '../../errors';
import { signalOf, type ExecOptions, type ExecResult } from '../contract';
import { execBody, execWebsocketPath, lxdCalls } from './api';
import type { LxdClient } from './client';
import { TailBuffer } from '../tailBuffer';
import { execReturn, parseExecFds } from './parse';

const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
/** Output kept when the caller gives no sink. */
const COLLECT_MAX = 1024 * 1024;
const SIGKILL = 9;
/** How long a cancelled command's operation is given to end after its KILL. */
const CANCEL_GRACE_MS = 3_000;

export interface ExecIdentity {
  uid: number;
  gid: number;
  home: string;
}

/** An attach LXD answered with a status (its body, when it gave one, in the message). */
class AttachRefused extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`LXD answered ${status}${body ? `: ${body.slice(0, 300)}` : ''}`);
  }
}

function connectOnce(socketPath: string, path: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${socketPath}:${path}`, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => reject(new AttachRefused(res.statusCode ?? 0, body.trim())));
      res.on('error', () => reject(new AttachRefused(res.statusCode ?? 0, body.trim())));
    });
  });
}

/** Attempts at one stream's attach, and the pause between them. */
const ATTACH_TRIES = 3;
const ATTACH_PAUSE_MS = 200;

/** One stream of the command; a 5xx is tried again a few times (the command has not started). */
async function connect(socketPath: string, path: string): Promise<WebSocket> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(socketPath, path);
    } catch (err) {
      if (!(err instanceof AttachRefused && err.status >= 500) || attempt >= ATTACH_TRIES) throw err;
      await new Promise((r) => setTimeout(r, ATTACH_PAUSE_MS));
    }
  }
}

/** Resolves when the websocket is closed (by LXD at the end of its stream, or by us). */
const closed = (ws: WebSocket): Promise<void> =>
  new Promise((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())));

/** Whole commands started when LXD would not attach a stream of the one before. */
const START_TRIES = 3;

/**
 * Starts the command and attaches its streams. On a cluster, LXD's member in front sometimes
 * cannot pass an attach on to the member that runs the instance ("websocket: bad handshake"),
 * and that operation then refuses every further attach: it is cancelled (its command never ran:
 * LXD starts it only once every stream is attached) and the command is started anew.
 */
async function startAttached(
  client: LxdClient,
  instance: string,
  argv: string[],
  who: ExecIdentity,
  opts: ExecOptions,
): Promise<{ op: { path: string }; sockets: WebSocket[] }> {
  const env: Record<string, string> = { HOME: who.home, ...opts.env };
  for (let attempt = 1; ; attempt++) {
    const op = await client.start(
      lxdCalls.exec(
        instance,
        execBody({
          argv,
          uid: who.uid,
          gid: who.gid,
          env,
          ...(opts.workingDir ? { cwd: opts.workingDir } : {}),
          ...(opts.tty ? { tty: true } : {}),
        }),
      ),
      { timeoutMs: 30_000, ...signalOf(opts) },
    );
    if (!op)
      throw new AgentError('WORKSPACE_MISSING', `The instance ${instance} no longer exists`, { provider: 'lxc' });
    const fds = parseExecFds(op.metadata);
    const sockets: WebSocket[] = [];
    try {
      // Interactive (tty) execs have one stream for all three; LXD names it `0`.
      const names = opts.tty ? [fds.stdin, fds.control] : [fds.stdin, fds.stdout, fds.stderr, fds.control];
      for (const secret of names) sockets.push(await connect(client.socketPath, execWebsocketPath(op.path, secret)));
      return { op, sockets };
    } catch (err) {
      for (const s of sockets) s.terminate();
      await client.send(lxdCalls.operationCancel(op.path)).catch(() => undefined);
      const again = err instanceof AttachRefused && err.status >= 500 && attempt < START_TRIES;
      if (!again)
        throw new AgentError('PROVIDER_ERROR', `LXD could not attach to a command in the instance ${instance}`, {
          provider: 'lxc',
          cause: err,
        });
      await new Promise((r) => setTimeout(r, ATTACH_PAUSE_MS));
    }
  }
}

export async function lxdExec(
  client: LxdClient,
  instance: string,
  argv: string[],
  who: ExecIdentity,
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const { op, sockets } = await startAttached(client, instance, argv, who, opts);
  const [stdin, a, b, c] = sockets as [WebSocket, WebSocket, WebSocket?, WebSocket?];
  const [stdoutWs, stderrWs, control] = opts.tty ? [stdin, undefined, a] : [a, b, c];

  const out = new TailBuffer(COLLECT_MAX);
  const err = new TailBuffer(COLLECT_MAX);
  const sink = (into: TailBuffer, onChunk?: (c: Buffer) => void) => (data: WebSocket.RawData) => {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    if (chunk.length === 0) return;
    if (onChunk) onChunk(chunk);
    else into.push(chunk);
  };
  stdoutWs.on('message', sink(out, opts.onStdout));
  stderrWs?.on('message', sink(err, opts.onStderr));
  const streamsDone = Promise.all([closed(stdoutWs), ...(stderrWs ? [closed(stderrWs)] : [])]);

  const feeding = feedStdin(stdin, opts.stdin, opts.tty === true);
  const kill = (): void => control?.send(JSON.stringify({ command: 'signal', args: null, signal: SIGKILL }));
  let timedOut = false;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  // 0: no bound (a service's main command runs until stopped).
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          kill();
        }, timeoutMs)
      : undefined;
  // The wait's long poll ends with the call (a cancelled command's may not end by itself).
  const waitDone = new AbortController();
  const ended = client.wait(op.path, 24 * 3600_000, waitDone.signal);
  ended.catch(() => undefined);
  try {
    if (opts.signal && (await cancelledFirst(ended, opts.signal))) {
      kill();
      // A moment for LXD to end the killed command, so the instance keeps no process of it.
      await Promise.race([ended.catch(() => undefined), new Promise((r) => setTimeout(r, CANCEL_GRACE_MS))]);
      throw new AgentError('PROVIDER_ERROR', `A command in the instance ${instance} was cancelled`, {
        provider: 'lxc',
      });
    }
    const outcome = await ended;
    await Promise.race([streamsDone, new Promise((r) => setTimeout(r, 2_000))]);
    await feeding.catch(() => undefined);
    if (outcome.error !== undefined)
      throw new AgentError(
        'PROVIDER_ERROR',
        `LXD could not run ${argv[0] ?? 'a command'} in the instance ${instance}: ${outcome.error}`,
        { provider: 'lxc' },
      );
    if (timedOut)
      throw new AgentError(
        'PROVIDER_ERROR',
        `A command in the instance ${instance} did not finish within ${timeoutMs / 1000} s`,
        { provider: 'lxc' },
      );
    return { exitCode: execReturn(outcome.metadata), stdout: out.toString(), stderr: err.toString() };
  } finally {
    if (timer) clearTimeout(timer);
    waitDone.abort();
    for (const s of sockets) if (s.readyState === WebSocket.OPEN) s.close();
  }
}

/** True when `signal` is aborted before `ended` settles (at once when it already is). */
function cancelledFirst(ended: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(true);
    signal.addEventListener('abort', onAbort, { once: true });
    void ended
      .finally(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(false);
      })
      .catch(() => undefined);
  });
}

/**
 * Sends stdin and then ends it: LXD takes a close of a non-interactive stdin websocket as EOF.
 * Without stdin the stream is ended at once, so a command reading it sees EOF.
 */
async function feedStdin(ws: WebSocket, stdin: ExecOptions['stdin'], tty: boolean): Promise<void> {
  if (stdin !== undefined) {
    const chunks: AsyncIterable<Buffer> | Buffer[] = Buffer.isBuffer(stdin) ? [stdin] : stdin;
    for await (const chunk of chunks) {
      if (ws.readyState !== WebSocket.OPEN) return;
      await new Promise<void>((resolve, reject) =>
        ws.send(chunk, { binary: true }, (e) => (e ? reject(e) : resolve())),
      );
    }
  }
  // A tty's one stream carries the output too: it stays open until the command ends.
  if (!tty && ws.readyState === WebSocket.OPEN) ws.close();
}
