/**
 * What the cases of the shared lifecycle suite (lifecycleSuite.ts, lifecycleVm.ts) share for one
 * provider: its environment, the project, the live commands to end, the figures to print, and
 * the CLI calls they all make.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStatus, WorkspaceSummary } from '../../coordinator/protocol';
import type { LifecycleProvider, ProviderEnv } from './lifecycleProviders';
import { httpGetScript, startLive, type LiveCommand } from './servicesHarness';
import { REPO, type CliResult } from './coordinatorHarness';

export const HELLO = join(REPO, 'examples', 'hello');
export const README = readFileSync(join(HELLO, 'README.md'), 'utf8');

export function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** examples/hello with its provider section replaced. */
export function helloFor(dir: string, providerYaml: string, adapt: (text: string) => string = (t) => t): string {
  const project = join(dir, 'projects', 'hello');
  cpSync(HELLO, project, { recursive: true });
  const file = join(project, '.vendetta', 'config.yaml');
  const text = adapt(readFileSync(file, 'utf8').replace(/^provider: docker\ndocker:\n(?: {2}.*\n)+/m, providerYaml));
  assert.match(text, new RegExp(`^${providerYaml.split('\n')[0]}$`, 'm'), 'the provider section was replaced');
  writeFileSync(file, text);
  return project;
}

/** examples/hello's three services, all healthy, in their start order. */
export function assertHelloHealthy(services: ReadonlyArray<{ name: string; state: string }> | undefined): void {
  assert.deepEqual(
    services?.map((s) => [s.name, s.state]),
    [
      ['db', 'healthy'],
      ['api', 'healthy'],
      ['web', 'healthy'],
    ],
    JSON.stringify(services),
  );
}

export class LifecycleRun {
  /** Set by the suite's `before`. */
  env!: ProviderEnv;
  project!: string;
  readonly live: LiveCommand[] = [];
  readonly numbers: Record<string, number> = {};
  /** The node ports the running workspace was last seen on (SSH, services): `rm` must free them all. */
  nodePorts: number[] = [];

  constructor(readonly provider: LifecycleProvider) {}

  /** How many times longer a process takes to start inside (Node.js in a TCG guest: tens of seconds). */
  get slow(): number {
    return this.provider.scarceBoots ? 6 : 1;
  }

  /** A long-running command in the node's namespace, as the CLI's user; ended by the suite's `after`. */
  liveCommand(argv: string[]): LiveCommand {
    const c = startLive([...this.env.nsenter, ...argv], {
      ...process.env,
      ...this.env.env,
      VENDETTA_HOME: this.env.h.home,
      SSH_AUTH_SOCK: '',
      TZ: 'UTC',
    });
    this.live.push(c);
    return c;
  }

  liveCli(args: string[]): LiveCommand {
    return this.liveCommand([process.execPath, join(this.env.h.dir, 'bin', 'vendetta.js'), ...args]);
  }

  async get(url: string): Promise<{ status: number; body: string }> {
    return JSON.parse((await this.env.run(httpGetScript(url))).stdout || '{"status":-1,"body":""}') as {
      status: number;
      body: string;
    };
  }

  /** `sh -c script` inside the workspace through `workspace exec`. */
  execSh(script: string): Promise<CliResult> {
    return this.env.cli(['workspace', 'exec', 'hello', '--', 'sh', '-c', script]);
  }

  async status(): Promise<WorkspaceStatus> {
    return parse<WorkspaceStatus>(await this.env.cli(['workspace', 'status', 'hello', '--json']), 'status');
  }

  /** Notes the node ports of the running workspace. */
  async rememberPorts(): Promise<void> {
    const s = await this.status();
    assert.ok(s.ssh, `the running workspace has an SSH port: ${JSON.stringify(s)}`);
    this.nodePorts = [s.ssh.port, ...(s.services ?? []).flatMap((x) => (x.nodePort ? [x.nodePort] : []))];
  }

  /** The workspace's row in `workspace list`. */
  async listed(): Promise<WorkspaceSummary | undefined> {
    return parse<WorkspaceSummary[]>(await this.env.cli(['workspace', 'list', '--json']), 'list').find(
      (w) => w.name === 'hello',
    );
  }

  agentPid(): number | undefined {
    try {
      return (JSON.parse(readFileSync(join(this.env.h.home, 'local-agent', 'daemon.pid'), 'utf8')) as { pid: number })
        .pid;
    } catch {
      return undefined;
    }
  }
}
