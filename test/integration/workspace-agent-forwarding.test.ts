/**
 * No credential reaches a workspace unless its config asks: the real OpenSSH client, reading a
 * user's ~/.ssh/config that says `Host * / ForwardAgent yes` below vendetta's Include, and a real
 * ssh-agent holding a key, against a real workspace sshd on a private dockerd.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_IMAGE } from '../infra/image';
import { requireCommands, requireRoot } from '../infra/sys';
import { waitUntil } from './coordinatorHarness';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

const ALIAS = 'agentfwd.local.vendetta';

describe("the laptop's SSH agent reaches a workspace only when its config opts in", function () {
  let env: WorkspaceEnv;
  let agent: ChildProcess | undefined;
  let agentSock: string;
  let userConfig: string;
  let project: string;
  let keyFingerprint: string;

  const writeConfig = (extra: string) =>
    writeFileSync(
      join(project, '.vendetta', 'config.yaml'),
      `name: agentfwd\nprovider: docker\ndocker: { image: ${TEST_IMAGE} }\n${extra}`,
    );

  /** `ssh -G`: what OpenSSH makes of the user's config for the workspace, without connecting. */
  const sshG = async (): Promise<Map<string, string>> => {
    const r = await env.run(['ssh', '-G', '-F', userConfig, ALIAS]);
    assert.equal(r.code, 0, r.stderr);
    return new Map(
      r.stdout.split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)] as [string, string]),
    );
  };

  /** The workspace's view of the agent, through the user's config, with the laptop's agent running. */
  const inWorkspace = async (extraArgs: string[] = []) => {
    const r = await env.run(
      [
        'ssh',
        '-F',
        userConfig,
        '-o',
        'BatchMode=yes',
        ...extraArgs,
        '--',
        ALIAS,
        'echo "sock=[$SSH_AUTH_SOCK]"; ssh-add -l',
      ],
      { env: { SSH_AUTH_SOCK: agentSock } },
    );
    return { sock: /^sock=\[(.*)\]$/m.exec(r.stdout)?.[1], out: r.stdout, stderr: r.stderr };
  };

  const up = async () => {
    const r = await env.cli(['workspace', 'up', project]);
    assert.equal(r.code, 0, r.stderr);
  };

  before(async function () {
    requireRoot(this, 'the agent forwarding suite');
    requireCommands(this, 'the agent forwarding suite', ['ssh', 'ssh-agent', 'ssh-add', 'ssh-keygen', 'dockerd']);
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    // The laptop's agent, holding one key.
    agentSock = join(env.h.dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
    await waitUntil(() => existsSync(agentSock), 10_000, 'ssh-agent to listen');
    const key = join(env.h.dir, 'laptop_key');
    assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'laptop-key', '-f', key]).status, 0);
    const add = spawnSync('ssh-add', [key], { env: { ...process.env, SSH_AUTH_SOCK: agentSock }, encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    keyFingerprint = spawnSync('ssh-keygen', ['-l', '-f', `${key}.pub`], { encoding: 'utf8' }).stdout.split(' ')[1]!;
    // A user who forwards the agent everywhere, then `vendetta ssh-config install` as a user runs it.
    const home = join(env.h.dir, 'user-home');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    userConfig = join(home, '.ssh', 'config');
    writeFileSync(userConfig, 'Host *\n  ForwardAgent yes\n  ForwardX11 yes\n  ForwardX11Trusted yes\n', {
      mode: 0o600,
    });
    const inst = await env.cli(['ssh-config', 'install'], { env: { HOME: home } });
    assert.equal(inst.code, 0, inst.stderr);
    assert.match(readFileSync(userConfig, 'utf8'), /^Include .*ssh_config\nHost \*\n {2}ForwardAgent yes/);
    project = join(env.h.dir, 'agentfwd');
    mkdirSync(join(project, '.vendetta'), { recursive: true });
    writeConfig('');
  });

  after(async function () {
    this.timeout(120_000);
    agent?.kill('SIGTERM');
    if (!env) return;
    await env.cli(['workspace', 'rm', 'agentfwd', '--force']).catch(() => undefined);
    await env.cleanup();
  });

  it('without the opt-in: the block says ForwardAgent no and ForwardX11 no, and the workspace sees no agent, even with ssh -A', async () => {
    await up();
    const g = await sshG();
    assert.equal(g.get('forwardagent'), 'no');
    assert.equal(g.get('forwardx11'), 'no');
    const plain = await inWorkspace();
    assert.equal(plain.sock, '', plain.out + plain.stderr);
    assert.doesNotMatch(plain.out, new RegExp(keyFingerprint.replace(/[+/]/g, '\\$&')));
    // A client that forwards anyway (ssh -A) meets the workspace's sshd, which refuses.
    const forced = await inWorkspace(['-A']);
    assert.equal(forced.sock, '', forced.out + forced.stderr);
  });

  it("with `forwardAgent: true`: the block says yes and the workspace can use the laptop's key", async () => {
    writeConfig('forwardAgent: true\n');
    await up();
    const g = await sshG();
    assert.equal(g.get('forwardagent'), 'yes');
    assert.equal(g.get('forwardx11'), 'no');
    const fwd = await inWorkspace();
    assert.match(fwd.sock ?? '', /^\/tmp\/ssh-/, fwd.out + fwd.stderr);
    assert.ok(
      fwd.out.includes(keyFingerprint),
      `ssh-add -l in the workspace lists the laptop's key:\n${fwd.out}${fwd.stderr}`,
    );
  });

  it('turning it off again: the running sshd is reloaded and refuses even ssh -A', async () => {
    writeConfig('forwardAgent: false\n');
    await up();
    assert.equal((await sshG()).get('forwardagent'), 'no');
    const forced = await inWorkspace(['-A']);
    assert.equal(forced.sock, '', forced.out + forced.stderr);
  });
});
