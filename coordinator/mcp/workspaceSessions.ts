/**
 * SSH sessions with workspaces, kept open between tool calls: the first call to a workspace opens
 * a coordinator tunnel and logs in with the workspace key (host key pinned, as `workspace exec`
 * does); later calls open only a channel on it. A session that closes is dropped and the next
 * call opens a new one.
 */
import type { Client, ClientChannel } from 'ssh2';
import { attachTunnel } from '../cli/tunnelClient';
import { VendettaError } from '../errors';
import { TunnelOpen, type TunnelOpenResult, type WorkspaceRef } from '../protocol';
import { connectWorkspace } from '../workspaces/workspaceSsh';
import { CappedOutput } from './cappedOutput';
import type { CoordinatorLink } from './coordinatorLink';

export interface WorkspaceSession {
  ssh: Client;
  info: TunnelOpenResult;
}

export interface RunOptions {
  stdin?: Buffer;
  maxBytes: number;
  timeoutMs: number;
  /** How long after the deadline to stop waiting for a command that outlives it (default 5 s). */
  backstopMs?: number;
}

export interface RunResult {
  /** null: killed after the timeout. */
  exitCode: number | null;
  signal?: string;
  stdout: CappedOutput;
  stderr: CappedOutput;
  timedOut: boolean;
  durationMs: number;
}

export class WorkspaceSessions {
  private readonly open = new Map<string, Promise<WorkspaceSession>>();

  constructor(private readonly link: CoordinatorLink) {}

  get(ref: WorkspaceRef): Promise<WorkspaceSession> {
    const key = keyOf(ref);
    let s = this.open.get(key);
    if (!s) {
      const p: Promise<WorkspaceSession> = this.connect(ref, () => this.drop(key, p));
      this.open.set(key, p);
      p.catch(() => this.drop(key, p));
      s = p;
    }
    return s;
  }

  /** Forgets a session, unless a newer one already took its place. */
  private drop(key: string, p: Promise<WorkspaceSession>): void {
    if (this.open.get(key) === p) this.open.delete(key);
  }

  private async connect(ref: WorkspaceRef, onClose: () => void): Promise<WorkspaceSession> {
    const client = await this.link.get();
    const info = await client.request(TunnelOpen, ref.node ? { name: ref.name, node: ref.node } : { name: ref.name });
    const sock = await attachTunnel(client.paths, info.token);
    let ssh: Client;
    try {
      ssh = await connectWorkspace({
        sock,
        alias: info.alias,
        user: info.user,
        identityFile: info.identityFile,
        knownHostsFile: info.knownHostsFile,
      });
    } catch (err) {
      sock.destroy();
      throw err;
    }
    ssh.on('close', onClose);
    ssh.on('error', onClose);
    return { ssh, info };
  }

  /** Runs a command line in the workspace and collects its output, capped; kills it after the timeout. */
  async run(ref: WorkspaceRef, command: string, opts: RunOptions): Promise<RunResult & { info: TunnelOpenResult }> {
    const kept = this.get(ref);
    let session = await kept;
    let result: RunResult;
    try {
      result = await runCapped(session.ssh, command, opts);
    } catch {
      // No channel opened, so the command never ran: the kept session went stale (the workspace
      // restarted, the node link dropped) before ssh2 noticed. Once more over a new session.
      this.drop(keyOf(ref), kept);
      session.ssh.end();
      session = await this.get(ref);
      result = await runCapped(session.ssh, command, opts);
    }
    return { ...result, info: session.info };
  }

  dispose(): void {
    for (const s of this.open.values())
      s.then(
        (x) => x.ssh.end(),
        () => undefined,
      );
    this.open.clear();
  }
}

function keyOf(ref: WorkspaceRef): string {
  return `${ref.name}\0${ref.node ?? ''}`;
}

/** How long after its deadline a command is given before we stop waiting for it. */
const BACKSTOP_MS = 5000;

export function runCapped(ssh: Client, command: string, opts: RunOptions): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    ssh.exec(command, (err, ch: ClientChannel) => {
      if (err) {
        reject(
          new VendettaError('TUNNEL_FAILED', `The workspace refused to run the command: ${err.message}`, {
            cause: err,
            hint: 'Is the workspace running? workspace_status shows it.',
          }),
        );
        return;
      }
      const stdout = new CappedOutput(opts.maxBytes);
      const stderr = new CappedOutput(opts.maxBytes);
      let exitCode: number | null = null;
      let signal: string | undefined;
      ch.on('data', (d: Buffer) => stdout.push(d));
      ch.stderr.on('data', (d: Buffer) => stderr.push(d));
      ch.on('exit', (code: number | null, sig?: string) => {
        if (typeof code === 'number') exitCode = code;
        else if (sig) signal = sig;
      });
      let settled = false;
      const finish = (backstop: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const durationMs = Date.now() - t0;
        // `timeout` in the workspace ends the command at the deadline with 124 (TERM) or 137 (KILL).
        const timedOut = backstop || (durationMs >= opts.timeoutMs - 50 && (exitCode === 124 || exitCode === 137));
        resolve({
          exitCode: timedOut ? null : (exitCode ?? (signal ? null : 255)),
          ...(signal ? { signal } : {}),
          stdout,
          stderr,
          timedOut,
          durationMs,
        });
      };
      // The workspace keeps the deadline (the caller wraps the command in `timeout`); this one
      // is for a command that runs without it: signal it and stop waiting for the channel.
      const timer = setTimeout(
        () => {
          ch.signal('KILL');
          ch.close();
          finish(true);
        },
        opts.timeoutMs + (opts.backstopMs ?? BACKSTOP_MS),
      );
      ch.on('close', () => finish(false));
      ch.end(opts.stdin ?? Buffer.alloc(0));
    });
  });
}
