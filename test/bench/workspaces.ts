/**
 * Issue-4 benchmarks: workspaces on Docker through the built CLI and the real OpenSSH client, each
 * beside a baseline measured in the same run on the same engine and image.
 * - workspace-up: `workspace up` of examples/hello on the local node (a private dockerd in its own
 *   network namespace), beside `docker run -d` + `docker exec true`, in two rows: until `up` returns
 *   (it returns once the workspace's sshd answers), and until a first `ssh <alias> true` through the
 *   generated config has also logged in and run (a whole SSH key exchange and login, which
 *   `docker exec` does not pay). The code sync is its own row (the target is 1.5× plus the sync).
 *   The project's services (and hooks) are left out of its config: `up` also starts them and waits
 *   for their health checks, which is not the workspace being ready for SSH;
 *   services-up-to-healthy measures that.
 * - workspace-reup: `up` again after one changed file, beside sending that file with plain OpenSSH
 *   (`ssh … 'cat > file'` straight to the workspace's sshd).
 * - workspace-ssh-proxy: `ssh <alias> true` through `vendetta ssh-proxy` (the coordinator's pooled
 *   connection) on an SSH node, beside `ssh -J node` to the same workspace sshd.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { WorkspaceStatus, WorkspaceUpResult } from '../../coordinator/protocol';
import { createDockerNodes } from '../infra/dockerNode';
import { TEST_IMAGE } from '../infra/image';
import { commandExists } from '../infra/sys';
import { createCliHome, REPO } from '../integration/coordinatorHarness';
import { createWorkspaceEnv, type WorkspaceEnv } from '../integration/workspaceHarness';
import { median, result, type Benchmark } from './harness';

const HELLO = join(REPO, 'examples', 'hello');
const RUNS = 5;

export function needsRootDockerSsh(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (dockerd, network namespaces)';
  const missing = ['dockerd', 'docker', 'ssh', 'ip', 'nsenter'].filter((c) => !commandExists(c));
  return missing.length ? `needs ${missing.join(', ')} (test/infra/setup.sh installs them)` : undefined;
}

export function must<T extends { code: number; stderr: string }>(r: T, what: string): T {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** `docker run -d IMAGE sleep infinity` then `docker exec ID true`, in ms; the container is removed after. */
async function rawDockerRunExec(env: WorkspaceEnv): Promise<number> {
  const docker = ['docker', '-H', env.dockerd.host];
  const t0 = Date.now();
  const run = must(await env.run([...docker, 'run', '-d', TEST_IMAGE, 'sleep', 'infinity']), 'docker run');
  const id = run.stdout.trim();
  must(await env.run([...docker, 'exec', id, 'true']), 'docker exec');
  const ms = Date.now() - t0;
  await env.run([...docker, 'rm', '-f', id]);
  return ms;
}

/** The project copy and the folder of one fresh workspace name. */
function copyOf(env: WorkspaceEnv, name: string): string {
  const dir = join(env.h.dir, 'bench-projects', name);
  mkdirSync(join(env.h.dir, 'bench-projects'), { recursive: true });
  cpSync(HELLO, dir, { recursive: true });
  return dir;
}

/** A copy of the project whose config has no services or hooks: the workspace alone. */
export function copyWithoutServices(env: WorkspaceEnv, name: string): string {
  const dir = copyOf(env, name);
  const file = join(dir, '.vendetta', 'config.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.delete('services');
  doc.delete('hooks');
  writeFileSync(file, doc.toString());
  return dir;
}

export const workspaceUp: Benchmark = {
  name: 'workspace-up',
  requires: needsRootDockerSsh,
  async run() {
    const env = await createWorkspaceEnv();
    try {
      const ours: number[] = [];
      const upOnly: number[] = [];
      const sshOnly: number[] = [];
      const sync: number[] = [];
      const raw: number[] = [];
      await rawDockerRunExec(env); // warm the engine's first-container costs for both sides alike
      for (let i = 0; i < RUNS; i++) {
        const name = `bench-up-${i}`;
        const dir = copyWithoutServices(env, name);
        const up = must(await env.cli(['workspace', 'up', dir, '--name', name, '--json']), 'workspace up');
        const r = JSON.parse(up.stdout) as WorkspaceUpResult;
        if (r.services?.length)
          throw new Error(`up started ${r.services.length} services; this figure is the workspace alone`);
        const ssh = must(await env.ssh(r.sshHost, ['true']), `ssh ${r.sshHost} true`);
        ours.push(up.ms + ssh.ms);
        upOnly.push(up.ms);
        sshOnly.push(ssh.ms);
        sync.push(r.sync?.elapsedMs ?? 0);
        raw.push(await rawDockerRunExec(env));
        must(await env.cli(['workspace', 'rm', name, '--force']), 'workspace rm');
      }
      const withoutSync = (samples: number[]) => samples.map((ms, i) => ms - (sync[i] ?? 0));
      process.stderr.write(
        `  workspace-up medians: up ${median(upOnly)} ms (sync ${median(sync)} ms), first ssh true ${median(sshOnly)} ms; docker run + exec ${median(raw)} ms\n`,
      );
      return [
        result(
          'workspace-up-to-sshd-ready-without-sync',
          median(withoutSync(upOnly)),
          'ms',
          'docker-run-plus-exec-true',
          median(raw),
          1.5,
        ),
        result(
          'workspace-up-to-first-ssh-login-without-sync',
          median(withoutSync(ours)),
          'ms',
          'docker-run-plus-exec-true',
          median(raw),
          1.5,
        ),
        result('workspace-up-sync', median(sync), 'ms', 'workspace-up-to-first-ssh-login', median(ours), 0.5),
      ];
    } finally {
      await env.cleanup();
    }
  },
};

export const workspaceReup: Benchmark = {
  name: 'workspace-reup',
  requires: needsRootDockerSsh,
  async run() {
    const env = await createWorkspaceEnv();
    try {
      const name = 'bench-reup';
      const dir = copyOf(env, name);
      const first = JSON.parse(
        must(await env.cli(['workspace', 'up', dir, '--name', name, '--json']), 'workspace up').stdout,
      ) as WorkspaceUpResult;
      const status = JSON.parse(
        must(await env.cli(['workspace', 'status', name, '--json']), 'workspace status').stdout,
      ) as WorkspaceStatus;
      if (!status.ssh) throw new Error(`workspace status has no ssh endpoint: ${JSON.stringify(status)}`);
      // Plain OpenSSH straight to the workspace's sshd on the node's loopback: no ProxyCommand.
      const direct = ['-o', 'ProxyCommand=none', '-o', `HostName=${status.ssh.host}`, '-o', `Port=${status.ssh.port}`];
      const file = join(dir, 'README.md');
      const ours: number[] = [];
      const raw: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const text = `# changed ${i}\n${'x'.repeat(1000)}\n`;
        writeFileSync(file, text);
        const later = new Date(Date.now() + (i + 1) * 2000); // a new mtime even within one second
        utimesSync(file, later, later);
        const up = must(await env.cli(['workspace', 'up', dir, '--name', name, '--json']), 're-up');
        const r = JSON.parse(up.stdout) as WorkspaceUpResult;
        if (r.sync?.sent !== 1) throw new Error(`re-up sent ${r.sync?.sent} files, not 1`);
        ours.push(up.ms);
        const ssh = must(
          await env.run(
            [
              'ssh',
              '-F',
              join(env.h.home, 'ssh_config'),
              '-o',
              'BatchMode=yes',
              ...direct,
              first.sshHost,
              `cat > ${first.workspaceFolder}/README.md`,
            ],
            { input: text },
          ),
          'ssh cat >',
        );
        raw.push(ssh.ms);
      }
      must(await env.cli(['workspace', 'rm', name, '--force']), 'workspace rm');
      return [result('workspace-reup-one-changed-file', median(ours), 'ms', 'openssh-cat-one-file', median(raw), 1.5)];
    } finally {
      await env.cleanup();
    }
  },
};

export const workspaceSshProxy: Benchmark = {
  name: 'workspace-ssh-proxy',
  requires: needsRootDockerSsh,
  async run() {
    const net = await createDockerNodes({ count: 1, label: 'bench-proxy' });
    const h = createCliHome();
    try {
      const node = net.nodes[0]!;
      must(
        await h.run([
          'node',
          'add',
          node.name,
          '--host',
          node.host,
          '--user',
          node.user,
          '--identity',
          node.identity,
          '--host-key-fingerprint',
          node.hostKeyFingerprint,
        ]),
        'node add',
      );
      const dir = join(h.dir, 'hello');
      cpSync(HELLO, dir, { recursive: true });
      const up = JSON.parse(
        must(
          await h.run(['workspace', 'up', dir, '--node', node.name, '--json'], { timeoutMs: 180_000 }),
          'workspace up',
        ).stdout,
      ) as WorkspaceUpResult;
      const status = JSON.parse(
        must(await h.run(['workspace', 'status', up.name, '--json']), 'workspace status').stdout,
      ) as WorkspaceStatus;
      if (!status.ssh) throw new Error(`workspace status has no ssh endpoint: ${JSON.stringify(status)}`);
      // The same workspace block, reached with OpenSSH's own jump through the node instead.
      const config = join(h.dir, 'bench_ssh_config');
      writeFileSync(
        config,
        [
          // First: an Include after a Host line would apply only to that Host.
          `Include ${join(h.home, 'ssh_config')}`,
          'Host bench-node',
          `  HostName ${node.host}`,
          `  User ${node.user}`,
          `  IdentityFile ${node.identity}`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${join(h.dir, 'bench_known_hosts')}`,
          '  StrictHostKeyChecking accept-new',
          '  BatchMode yes',
          '',
        ].join('\n'),
      );
      const env = { ...process.env, VENDETTA_HOME: h.home, SSH_AUTH_SOCK: '' };
      const timeSsh = (args: string[]): number => {
        const t0 = process.hrtime.bigint();
        const r = spawnSync('ssh', [...args, 'true'], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
        if (r.status !== 0) throw new Error(`ssh ${args.join(' ')} true: exit ${r.status}: ${r.stderr?.toString()}`);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      const proxied = ['-F', join(h.home, 'ssh_config'), '-o', 'BatchMode=yes', up.sshHost];
      const jumped = [
        '-F',
        config,
        '-o',
        'ProxyJump=bench-node',
        '-o',
        `HostName=${status.ssh.host}`,
        '-o',
        `Port=${status.ssh.port}`,
        up.sshHost,
      ];
      timeSsh(proxied); // first connects (agent tunnel, node host key) are not part of the figure
      timeSsh(jumped);
      const ours: number[] = [];
      const raw: number[] = [];
      for (let i = 0; i < RUNS * 2; i++) {
        ours.push(timeSsh(proxied));
        raw.push(timeSsh(jumped));
      }
      must(await h.run(['workspace', 'rm', up.name, '--force']), 'workspace rm');
      return [result('workspace-ssh-proxy-connect', median(ours), 'ms', 'openssh-jump-through-node', median(raw), 1)];
    } finally {
      await h.cleanup();
      await net.destroy();
    }
  },
};

export const workspaceBenchmarks: Benchmark[] = [workspaceUp, workspaceReup, workspaceSshProxy];
