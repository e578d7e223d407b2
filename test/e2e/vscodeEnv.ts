/**
 * What the e2e suites share, made once per run and torn down by a root `after` hook (and by each
 * piece's own exit handlers if the run is killed): three real SSH nodes in network namespaces,
 * each with its own dockerd and the workspace image; a temp VENDETTA_HOME with the first two nodes
 * added and a running workspace (examples/hello, with its services) on the first, all through the
 * built CLI, whose coordinator the extension then connects to; a private LXD (./lxdWorkspace.ts)
 * with examples/hello as an LXC workspace on the built-in `local` node, brought up beside it; and
 * one code-server whose extension host sees that VENDETTA_HOME (environment and the
 * `vendetta.home` setting) and that LXD (LXD_DIR/LXD_CONF).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStatus } from '../../coordinator/protocol';
import { createCliHome, REPO, type CliHome } from '../integration/coordinatorHarness';
import { startCodeServer, type CodeServer } from '../infra/codeServer';
import { createDockerNodes, type DockerNodes } from '../infra/dockerNode';
import type { Lxd } from '../infra/lxd';
import { requireCommands, requireRoot } from '../infra/sys';
import type { E2eInfo } from './extensionHost/hostEnv';
import { startE2eLxd, upLxcHello } from './lxdWorkspace';

export interface VscodeEnv {
  h: CliHome;
  net: DockerNodes;
  /** LXD_DIR/LXD_CONF of the run's LXD: every CLI run gets them, so its local agent finds that LXD. */
  lxdEnv: Record<string, string>;
  cs: CodeServer;
  info: E2eInfo;
  /** The folder code-server opens (no Vendetta config in it at start). */
  folder: string;
  /** The results file the extension host appends to. */
  resultsFile: string;
  /** A node not yet added: the UI test adds it through Add Node. */
  spareNode: DockerNodes['nodes'][number];
  timings: Record<string, number>;
}

let shared: Promise<VscodeEnv> | undefined;
let made: { h?: CliHome; net?: DockerNodes; cs?: CodeServer; lxd?: Lxd; lxdEnv?: Record<string, string> } = {};

/** Skips off CI with one line when this machine cannot run a real VS Code; under CI=true it fails instead. */
export function requireVscodeEnv(ctx: Mocha.Context): void {
  requireRoot(ctx, 'the VS Code end-to-end suite');
  requireCommands(ctx, 'the VS Code end-to-end suite', [
    'chromium',
    'rg',
    'sshd',
    'ssh',
    'dockerd',
    'ip',
    'useradd',
    'lxd',
    'lxc',
  ]);
}

export function vscodeEnv(): Promise<VscodeEnv> {
  shared ??= create();
  return shared;
}

async function create(): Promise<VscodeEnv> {
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  // The LXD starts beside the nodes (each mostly waits on its daemons); both are kept for the
  // teardown before either failure is thrown.
  const [nodes, lxd] = await Promise.allSettled([
    createDockerNodes({ count: 3, label: 'e2e' }).finally(() => (timings.nodesMs = Date.now() - t0)),
    startE2eLxd().finally(() => (timings.lxdStartMs = Date.now() - t0)),
  ]);
  if (nodes.status === 'fulfilled') made.net = nodes.value;
  if (lxd.status === 'fulfilled') made.lxd = lxd.value.lxd;
  if (nodes.status === 'rejected') throw nodes.reason;
  if (lxd.status === 'rejected') throw lxd.reason;
  const net = nodes.value;
  const lxdEnv = (made.lxdEnv = lxd.value.env);
  const h = (made.h = createCliHome());
  const [n1, n2, spare] = net.nodes as [
    DockerNodes['nodes'][number],
    DockerNodes['nodes'][number],
    DockerNodes['nodes'][number],
  ];
  const t1 = Date.now();
  const adds = await Promise.all(
    [n1, n2].map((n) =>
      h.run(
        [
          'node',
          'add',
          n.name,
          '--host',
          n.host,
          '--user',
          n.user,
          '--identity',
          n.identity,
          '--host-key-fingerprint',
          n.hostKeyFingerprint,
          '--json',
        ],
        { timeoutMs: 120_000, env: lxdEnv },
      ),
    ),
  );
  adds.forEach((r, i) => assert.equal(r.code, 0, `node add ${[n1, n2][i]!.name}: ${r.stderr}`));
  timings.nodeAddMs = Date.now() - t1;

  const projects = join(h.dir, 'projects');
  const hello = join(projects, 'hello');
  mkdirSync(projects, { recursive: true });
  cpSync(join(REPO, 'examples', 'hello'), hello, { recursive: true });
  const t2 = Date.now();
  // Both workspaces come up at once, each on its own node.
  const [up, lxcWorkspace] = await Promise.all([
    h
      .run(['workspace', 'up', hello, '--node', n1.name], { timeoutMs: 240_000, env: lxdEnv })
      .finally(() => (timings.workspaceUpMs = Date.now() - t2)),
    upLxcHello(h, lxdEnv).finally(() => (timings.lxcWorkspaceUpMs = Date.now() - t2)),
  ]);
  assert.equal(up.code, 0, `workspace up hello: ${up.stderr}`);
  const ws = await h.json<WorkspaceStatus>(['workspace', 'status', 'hello']);
  if (up.ms > 60_000) console.log(`      workspace up took ${up.ms} ms:\n${up.stderr.trim()}`);

  // The extension starts the coordinator it needs itself (its bundled CLI, the runtime it finds),
  // so the ssh_config the Reopen test uses holds the extension's ProxyCommand.
  const stop = await h.run(['coordinator', 'stop'], { timeoutMs: 30_000, env: lxdEnv });
  assert.equal(stop.code, 0, `coordinator stop: ${stop.stderr}`);

  // The folder code-server opens; the in-host Reopen test writes its config there after the
  // activation test (a config present at start-up would activate the extension before it is timed).
  const folder = join(projects, 'reopen-me');
  mkdirSync(folder, { recursive: true });
  const helloConfig = readFileSync(join(hello, '.vendetta', 'config.yaml'), 'utf8');
  const info: E2eInfo = {
    home: h.home,
    cli: join(h.dir, 'bin', 'vendetta.js'),
    nodes: [n1, n2].map((n) => ({
      name: n.name,
      host: n.host,
      user: n.user,
      identity: n.identity,
      fingerprint: n.hostKeyFingerprint,
    })),
    workspace: { name: ws.name, node: ws.node, services: ['db', 'api', 'web'] },
    lxcWorkspace,
    reopenProject: {
      folder,
      name: 'reopen-me',
      node: n2.name,
      readme: readFileSync(join(hello, 'README.md'), 'utf8'),
      config: helloConfig.replace(/^name: hello$/m, `name: reopen-me\nnode: ${n2.name}`),
      source: hello,
    },
  };
  const infoFile = join(h.dir, 'e2e-info.json');
  writeFileSync(infoFile, JSON.stringify(info, null, 2));
  const resultsFile = join(h.dir, 'e2e-results.jsonl');
  const cs = (made.cs = await startCodeServer({
    env: {
      VENDETTA_HOME: h.home,
      VENDETTA_E2E_INFO: infoFile,
      VENDETTA_E2E_RESULTS: resultsFile,
      SSH_AUTH_SOCK: '',
      ...lxdEnv,
    },
    settings: { 'vendetta.home': h.home },
  }));
  timings.codeServerInstallMs = cs.installMs;
  timings.codeServerStartMs = cs.startMs;
  return { h, net, lxdEnv, cs, info, folder, resultsFile, spareNode: spare, timings };
}

/**
 * Tears everything down: code-server, then the workspaces (their containers and instances), the
 * home, the LXD, the nodes.
 */
export async function destroyVscodeEnv(): Promise<void> {
  const { h, net, cs, lxd, lxdEnv } = made;
  made = {};
  shared = undefined;
  await cs?.stop().catch(() => undefined);
  if (h) {
    const env = lxdEnv ?? {};
    const list = await h.run(['workspace', 'list', '--json'], { timeoutMs: 30_000, env }).catch(() => undefined);
    const names = list?.code === 0 ? (JSON.parse(list.stdout) as Array<{ name: string }>).map((w) => w.name) : [];
    // At once: each is on its own node.
    await Promise.all(
      names.map((w) => h.run(['workspace', 'rm', w, '--force'], { timeoutMs: 60_000, env }).catch(() => undefined)),
    );
    await h.cleanup();
  }
  await lxd?.stop().catch(() => undefined);
  await net?.destroy();
}

after(async function () {
  this.timeout(180_000);
  await destroyVscodeEnv();
});
