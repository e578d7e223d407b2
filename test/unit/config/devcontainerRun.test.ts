import assert from 'node:assert/strict';
import { resolveWorkspaceConfig, validateDevcontainerText } from '../../../coordinator/config';
import { containerCreateBody } from '../../../agent/providers/docker/api';
import { deviceMapping, mountRefusal } from '../../../agent/providers/docker/runOptions';
import { DockerProvider } from '../../../agent/providers/docker/provider';
import type { DockerRunOptions, WorkspaceSpec } from '../../../agent/protocol';
import { validRunOptions } from '../../../agent/handlers/runOptionsParams';

const at = (text: string) => validateDevcontainerText(text, '/p/.devcontainer/devcontainer.json', 'proj');
const lines = (r: ReturnType<typeof at>) => r.diagnostics.map((d) => `${d.severity} ${d.message}`);

describe('devcontainer.json container options: mounts, runArgs, privileged, capAdd, securityOpt, init', () => {
  it('reads mounts in both forms, runArgs of the safe subset, and the option fields', () => {
    const r = at(
      JSON.stringify({
        image: 'i',
        mounts: [
          'source=cache,target=/cache,type=volume',
          { type: 'bind', source: '/srv/data', target: '/data', readonly: true },
          'type=tmpfs,target=/scratch',
        ],
        runArgs: [
          '--gpus',
          'all',
          '--device=/dev/fuse',
          '--cap-add',
          'SYS_PTRACE',
          '--security-opt',
          'seccomp=unconfined',
          '--shm-size=256m',
          '--ulimit',
          'nofile=1024:2048',
          '-e',
          'FROM_RUNARGS=1',
          '--label',
          'team=web',
          '--init',
        ],
        privileged: true,
        capAdd: ['NET_ADMIN'],
        securityOpt: ['apparmor=unconfined'],
      }),
    );
    assert.deepEqual(lines(r), [
      'warning bind-mounts /srv/data of the node at /data (read-only): a folder on the node, outside the project, that the workspace can read',
    ]);
    assert.deepEqual(r.config?.docker?.run, {
      privileged: true,
      init: true,
      capAdd: ['NET_ADMIN', 'SYS_PTRACE'],
      securityOpt: ['apparmor=unconfined', 'seccomp=unconfined'],
      mounts: [
        { type: 'volume', source: 'cache', target: '/cache' },
        { type: 'bind', source: '/srv/data', target: '/data', readonly: true },
        { type: 'tmpfs', target: '/scratch' },
      ],
      gpus: 'all',
      devices: ['/dev/fuse'],
      shmSize: '256m',
      ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
      labels: { team: 'web' },
    });
    assert.equal(r.config?.env?.FROM_RUNARGS, '1');
    assert.equal(resolveWorkspaceConfig(r.config!).docker.run?.shmSizeBytes, 256 * 1024 * 1024);
  });

  it('refuses runArgs outside the safe subset and mounts it cannot make, saying why', () => {
    const r = at(
      JSON.stringify({
        image: 'i',
        runArgs: ['--network=host', '-v', '/a:/b', '--ulimit', 'bad'],
        mounts: [
          'type=bind,source=${localEnv:HOME}/.ssh,target=/root/.ssh',
          'type=bind,source=${nodeHome}/x,target=/root/x',
          'type=bind,source=rel,target=/x',
          'type=nfs,target=/y',
          'source=v',
        ],
      }),
    );
    assert.equal(r.config, undefined);
    const text = lines(r).join('\n');
    assert.match(text, /`runArgs`: "--network=host" is not supported/);
    assert.match(text, /`runArgs`: "-v" is not supported/);
    assert.match(text, /`runArgs` --ulimit: give name=soft\[:hard\]/);
    // ${localEnv:HOME} is this machine's folder, named as a node path in a warning; an unknown variable stays.
    assert.match(text, new RegExp(`bind-mounts ${process.env.HOME}/\\.ssh of the node at /root/\\.ssh`));
    assert.match(text, /`\$\{nodeHome\}` is not a variable Vendetta knows/);
    assert.match(text, /uses a \$\{…\} variable Vendetta could not substitute/);
    assert.match(text, /a bind mount needs an absolute `source`: a path on the node/);
    assert.match(text, /mount type "nfs" is not supported/);
    assert.match(text, /a mount needs an absolute `target`/);
  });

  it("turns the options into the engine's HostConfig, with the workspace's own mount and labels first", () => {
    const spec = {
      name: 'w',
      provider: 'docker' as const,
      env: {},
      user: 'root',
      workspaceFolder: '/workspaces/w',
      authorizedKeys: ['k'],
      docker: {
        image: 'i',
        run: {
          mounts: [{ type: 'volume' as const, source: 'cache', target: '/cache' }],
          privileged: true,
          init: true,
          capAdd: ['SYS_PTRACE'],
          securityOpt: ['seccomp=unconfined'],
          devices: ['/dev/fuse'],
          gpus: '2',
          shmSizeBytes: 1024,
          ulimits: [{ name: 'nofile', soft: 1, hard: 2 }],
          labels: { team: 'web', 'dev.vendetta.workspace': 'spoof' },
        },
      },
    };
    const body = containerCreateBody({
      spec,
      nodeFolder: '/n',
      labels: {},
      command: ['/usr/sbin/sshd', '-D'],
      sshNodePort: 41022,
    }) as {
      HostConfig: Record<string, unknown>;
      Labels: Record<string, string>;
    };
    const hc = body.HostConfig;
    assert.deepEqual(hc.Mounts, [
      { Type: 'bind', Source: '/n', Target: '/workspaces/w' },
      { Type: 'volume', Source: 'cache', Target: '/cache' },
    ]);
    assert.deepEqual(
      [hc.Privileged, hc.Init, hc.CapAdd, hc.SecurityOpt, hc.ShmSize],
      [true, true, ['SYS_PTRACE'], ['seccomp=unconfined'], 1024],
    );
    assert.deepEqual(hc.Devices, [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }]);
    assert.deepEqual(hc.DeviceRequests, [{ Driver: '', Count: 2, Capabilities: [['gpu']] }]);
    assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Soft: 1, Hard: 2 }]);
    assert.equal(body.Labels.team, 'web');
    assert.equal(body.Labels['dev.vendetta.workspace'], 'w', 'our label wins');
    assert.deepEqual(deviceMapping('/dev/a:/dev/b'), {
      PathOnHost: '/dev/a',
      PathInContainer: '/dev/b',
      CgroupPermissions: 'rwm',
    });
    assert.deepEqual(deviceMapping('/dev/a:r'), {
      PathOnHost: '/dev/a',
      PathInContainer: '/dev/a',
      CgroupPermissions: 'r',
    });
  });

  it("refuses at the agent a mount over the workspace folder or of the agent's own folder", () => {
    const m = 'workspaces/create';
    assert.throws(
      () => validRunOptions(m, { mounts: [{ type: 'bind', source: '/x', target: '/workspaces/w' }] }, '/workspaces/w'),
      /would cover the workspace folder/,
    );
    assert.throws(
      () => validRunOptions(m, { mounts: [{ type: 'tmpfs', target: '/workspaces' }] }, '/workspaces/w'),
      /would cover the workspace folder/,
    );
    assert.throws(
      () => validRunOptions(m, { mounts: [{ type: 'bind', source: '/a/../etc', target: '/x' }] }, '/workspaces/w'),
      /absolute, normalized path/,
    );
    assert.throws(
      () => validRunOptions(m, { mounts: [{ type: 'volume', source: '../v', target: '/x' }] }, '/workspaces/w'),
      /must name a volume/,
    );
    assert.throws(() => validRunOptions(m, { gpus: 'many' }, '/workspaces/w'), /gpus/);
    assert.deepEqual(
      validRunOptions(
        m,
        { mounts: [{ type: 'bind', source: '/srv/data/', target: '/data', readonly: true }], init: false },
        '/workspaces/w',
      ),
      { mounts: [{ type: 'bind', source: '/srv/data', target: '/data', readonly: true }] },
    );
    const home = '/home/dev/.vendetta-agent';
    assert.match(
      mountRefusal({ mounts: [{ type: 'bind', source: '/home/dev', target: '/h' }] }, home)?.message ?? '',
      /would give the workspace the agent's own folder/,
    );
    assert.ok(mountRefusal({ mounts: [{ type: 'bind', source: `${home}/workspaces/x`, target: '/h' }] }, home));
    assert.ok(mountRefusal({ mounts: [{ type: 'bind', source: '/', target: '/h' }] }, home));
    assert.equal(mountRefusal({ mounts: [{ type: 'bind', source: '/home/dev/.ssh', target: '/h' }] }, home), undefined);
    // The Docker provider answers the agent's question with it, before anything is made.
    const docker = DockerProvider.forSocket('/nonexistent/docker.sock');
    const spec = (mounts: DockerRunOptions['mounts']): WorkspaceSpec => ({
      name: 'w',
      provider: 'docker',
      docker: { image: 'img', run: { mounts } },
      env: {},
      user: 'root',
      workspaceFolder: '/workspaces/w',
      authorizedKeys: [],
    });
    assert.match(
      docker.refusal(spec([{ type: 'bind', source: home, target: '/h' }]), home)?.message ?? '',
      /agent's own folder/,
    );
    assert.equal(docker.refusal(spec([{ type: 'bind', source: '/srv', target: '/h' }]), home), undefined);
  });
});
