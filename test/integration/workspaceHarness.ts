/**
 * The local node with a real Docker engine, isolated: a private dockerd in its own network
 * namespace, and every command of the test (the built CLI, the coordinator and local agent it
 * starts, the OpenSSH client and the ProxyCommand it runs) entered into that namespace, so the
 * ports workspaces publish on 127.0.0.1 are the namespace's and nothing touches the host's network.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startDockerd, type Dockerd } from '../infra/docker';
import { ensureTestImage, type ImageReport } from '../infra/image';
import { createCliHome, type CliHome, type CliResult } from './coordinatorHarness';

export interface WorkspaceEnv {
  h: CliHome;
  dockerd: Dockerd;
  image: ImageReport;
  /** The built CLI inside the namespace, with VENDETTA_HOME and DOCKER_HOST set. */
  cli(args: string[], opts?: RunOpts): Promise<CliResult>;
  /** Any command inside the namespace. */
  run(argv: string[], opts?: RunOpts): Promise<CliResult>;
  /** `ssh -F $VENDETTA_HOME/ssh_config <alias> …` (BatchMode: never a prompt). */
  ssh(alias: string, command: string[], opts?: RunOpts & { config?: string }): Promise<CliResult>;
  /** The workspace containers the engine has (by our label). */
  containers(): Promise<Array<{ Names: string[]; Labels: Record<string, string>; State: string }>>;
  cleanup(): Promise<void>;
}

export interface RunOpts {
  input?: string | Buffer;
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
}

/** The built CLI, any command and the OpenSSH client, run inside a namespace (`nsenter` prefix) with `env`. */
export function commandsIn(
  h: CliHome,
  nsenter: string[],
  env: Record<string, string | undefined>,
): Pick<WorkspaceEnv, 'cli' | 'run' | 'ssh'> {
  const cliPath = join(h.dir, 'bin', 'vendetta.js');
  const baseEnv = { ...process.env, VENDETTA_HOME: h.home, SSH_AUTH_SOCK: '', ...env };
  const run = (argv: string[], opts: RunOpts = {}): Promise<CliResult> =>
    new Promise((resolve) => {
      const t0 = Date.now();
      const full = [...nsenter, ...argv];
      const child = spawn(full[0]!, full.slice(1), {
        cwd: opts.cwd ?? h.dir,
        env: { ...baseEnv, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        h.coordinatorPid();
        resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, ms: Date.now() - t0 });
      });
    });
  return {
    run,
    cli: (args, opts) => run([process.execPath, cliPath, ...args], opts),
    ssh: (alias, command, opts = {}) =>
      run(
        ['ssh', '-F', opts.config ?? join(h.home, 'ssh_config'), '-o', 'BatchMode=yes', '--', alias, ...command],
        opts,
      ),
  };
}

/** `env`: more environment for every command (and so for the coordinator and local agent they start). */
export async function createWorkspaceEnv(opts: { env?: Record<string, string> } = {}): Promise<WorkspaceEnv> {
  const h = createCliHome();
  let dockerd: Dockerd | undefined;
  try {
    dockerd = await startDockerd({ dir: join(h.dir, 'dockerd'), ownNetns: true, bip: '10.79.211.1/24' });
    const image = await ensureTestImage(dockerd.socket);
    const d = dockerd;
    return {
      h,
      dockerd: d,
      image,
      ...commandsIn(h, d.nsenter, { DOCKER_HOST: d.host, ...opts.env }),
      async containers() {
        const r = await d.engine.json({
          method: 'GET',
          path: '/containers/json',
          query: { all: 1, filters: JSON.stringify({ label: ['dev.vendetta.workspace'] }) },
          accept: [200],
          what: 'list containers',
        });
        return r.value as Array<{ Names: string[]; Labels: Record<string, string>; State: string }>;
      },
      async cleanup() {
        await h.cleanup();
        await d.stop();
      },
    };
  } catch (err) {
    await h.cleanup();
    await dockerd?.stop();
    throw err;
  }
}
