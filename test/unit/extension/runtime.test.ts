import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { runtimeArgv } from '../../../coordinator/home';
import { renderBlock } from '../../../coordinator/sshConfig/blocks';
import { homeFiles, resolveHome } from '../../../extension/client/home';
import { coordinatorCommand } from '../../../extension/client/launcher';
import { findNodeRuntime, nodeVersionOf } from '../../../extension/client/runtime';

describe('the extension finds its coordinator and a runtime for it', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-ext-runtime-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('home: the vendetta.home setting, else $VENDETTA_HOME, else ~/.vendetta', () => {
    assert.equal(resolveHome('~/vh', { VENDETTA_HOME: '/env' }, '/home/dev'), '/home/dev/vh');
    assert.equal(resolveHome('  ', { VENDETTA_HOME: '/env' }, '/home/dev'), '/env');
    assert.equal(resolveHome(undefined, {}, '/home/dev'), '/home/dev/.vendetta');
    assert.equal(homeFiles('/h').socket, '/h/coordinator.sock');
    assert.equal(homeFiles('/h').sshConfig, '/h/ssh_config');
  });

  function fakeNode(folder: string): string {
    mkdirSync(folder, { recursive: true });
    const p = join(folder, 'node');
    writeFileSync(p, '#!/bin/sh\necho v0\n');
    chmodSync(p, 0o755);
    return p;
  }

  it('prefers a node of version 20 or newer on PATH', async () => {
    const found = fakeNode(join(dir, 'bin'));
    const r = await findNodeRuntime({
      pathEnv: ['relative/bin', join(dir, 'empty'), join(dir, 'bin')].join(delimiter),
      execPath: '/opt/VS Code/code',
      version: async () => 'v22.3.0',
    });
    assert.deepEqual({ command: r.command, env: r.env }, { command: found, env: {} });
  });

  it("falls back to VS Code's runtime with ELECTRON_RUN_AS_NODE when node is missing or too old", async () => {
    fakeNode(join(dir, 'bin'));
    const old = await findNodeRuntime({
      pathEnv: join(dir, 'bin'),
      execPath: '/opt/VS Code/code',
      version: async () => 'v18.19.0',
    });
    assert.deepEqual(
      { command: old.command, env: old.env },
      { command: '/opt/VS Code/code', env: { ELECTRON_RUN_AS_NODE: '1' } },
    );
    const none = await findNodeRuntime({
      pathEnv: join(dir, 'nothing'),
      execPath: '/opt/VS Code/code',
      version: async () => 'v22.0.0',
    });
    assert.equal(none.command, '/opt/VS Code/code');
  });

  it("reads a real runtime's version", async () => {
    assert.match((await nodeVersionOf(process.execPath)) ?? '', /^v\d+\./);
    assert.equal(await nodeVersionOf(join(dir, 'missing')), undefined);
  });

  it('starts the coordinator as `<runtime> dist/vendetta.js coordinator run` with its home and log level', () => {
    const home = homeFiles(join(dir, 'my home'));
    const electron = coordinatorCommand(
      {
        home,
        cliPath: '/ext/dist/vendetta.js',
        runtime: { command: '/opt/code', env: { ELECTRON_RUN_AS_NODE: '1' }, description: '' },
        logLevel: 'debug',
      },
      { PATH: '/bin' },
    );
    assert.deepEqual(electron.args, ['/ext/dist/vendetta.js', 'coordinator', 'run']);
    assert.equal(electron.command, '/opt/code');
    assert.equal(electron.env.ELECTRON_RUN_AS_NODE, '1');
    assert.equal(electron.env.VENDETTA_HOME, home.root);
    assert.equal(electron.env.VENDETTA_LOG_LEVEL, 'debug');
    // A real node must not inherit the extension host's ELECTRON_RUN_AS_NODE.
    const node = coordinatorCommand(
      { home, cliPath: '/ext/dist/vendetta.js', runtime: { command: '/usr/bin/node', env: {}, description: '' } },
      { ELECTRON_RUN_AS_NODE: '1' },
    );
    assert.equal(node.env.ELECTRON_RUN_AS_NODE, undefined);
  });
});

describe('the ProxyCommand works without vendetta on PATH and without a system Node.js', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta proxy runtime '));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a coordinator under plain node runs the CLI with that node', () => {
    assert.deepEqual(runtimeArgv('/usr/bin/node', { node: '20.0.0' }, {}), ['/usr/bin/node']);
  });

  it("a coordinator under VS Code's runtime sets ELECTRON_RUN_AS_NODE=1 in the ProxyCommand itself", () => {
    assert.deepEqual(
      runtimeArgv('/opt/VS Code/code', { node: '20.0.0', electron: '35.0.0' }, { ELECTRON_RUN_AS_NODE: '1' }),
      ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', '/opt/VS Code/code'],
    );
  });

  it('runs as written in ssh_config, paths with spaces and all, with an empty PATH', () => {
    // Stand-ins: a "runtime" in a folder with spaces that reports its environment and argv.
    const runtime = join(dir, 'VS Code', 'code');
    mkdirSync(join(dir, 'VS Code'));
    writeFileSync(
      runtime,
      `#!${process.execPath}\nprocess.stdout.write(JSON.stringify({ electron: process.env.ELECTRON_RUN_AS_NODE, argv: process.argv.slice(2) }));\n`,
    );
    chmodSync(runtime, 0o755);
    const cli = join(dir, 'ext dist', 'vendetta.js');
    const argv = [
      ...runtimeArgv(runtime, { electron: '35.0.0' }, { ELECTRON_RUN_AS_NODE: '1' }),
      cli,
      'ssh-proxy',
      '--home',
      join(dir, 'home 1'),
    ];
    const block = renderBlock({
      alias: 'shop.b1.vendetta',
      user: 'dev',
      identityFile: '/k',
      knownHostsFile: '/kh',
      proxyCommand: argv,
    });
    const line = /^\s*ProxyCommand (.*)$/m.exec(block)![1]!;
    // What OpenSSH does: expand %h (and %%), then `sh -c "exec <command>"`.
    const command = line.replace(/%h/g, 'shop.b1.vendetta').replace(/%%/g, '%');
    const out = JSON.parse(
      execFileSync('/bin/sh', ['-c', `exec ${command}`], { env: { PATH: '' }, encoding: 'utf8' }),
    ) as { electron?: string; argv: string[] };
    assert.equal(out.electron, '1');
    assert.deepEqual(out.argv, [cli, 'ssh-proxy', '--home', join(dir, 'home 1'), 'shop.b1.vendetta']);
  });
});
