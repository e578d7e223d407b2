import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { VendettaError } from '../../../coordinator/errors';
import { homePaths, type HomePaths } from '../../../coordinator/home';
import { nullLogger } from '../../../coordinator/log';
import { WorkspaceManager } from '../../../coordinator/workspaces/manager';
import { WorkspaceStore, workspacesFile } from '../../../coordinator/workspaces/store';
import { UpSteps } from '../../../coordinator/workspaces/upSteps';
import { FakeWorkspaceAgent, writeProject } from './fakeAgent';

describe('an up that does not finish is marked so, and an interrupted one says what it left', () => {
  let dir: string;
  let paths: HomePaths;
  let project: string;
  let agent: FakeWorkspaceAgent;
  let m: WorkspaceManager;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-upsteps-'));
    paths = homePaths(join(dir, 'home'));
    project = join(dir, 'shop');
    writeProject(project, {
      '.vendetta/config.yaml': 'name: shop\ndocker: { image: test/debian:12 }\n',
      'README.md': '# shop\n',
    });
    agent = new FakeWorkspaceAgent('local', join(dir, 'nodes'));
    m = new WorkspaceManager({
      paths,
      log: nullLogger,
      nodes: { agentClient: () => agent },
      proxyCommand: ['/n', '/v', 'ssh-proxy'],
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('interrupted after the create: the record keeps the step reached, the error lists what was not done', async () => {
    const cancel = new CancellationTokenSource();
    const said: string[] = [];
    const err = await m
      .up(
        { path: project },
        (step, total, message) => {
          said.push(`${step}/${total} ${message}`);
          if (step === 3) cancel.cancel();
        },
        cancel.token,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof VendettaError && err.code === 'CANCELLED', String(err));
    assert.equal(err.message, 'The up of shop on local was interrupted at step 3/5 (Creating shop on local)');
    assert.equal(
      err.hint,
      `Not done yet: the workspace on local may be half-made, its ssh_config block, its code (partly sent at most). \`vendetta up ${project} --name shop\` finishes it; \`vendetta workspace rm shop --force\` removes what was made.`,
    );
    const [row] = m.cached();
    assert.deepEqual(
      [row?.unfinished?.step, row?.unfinished?.total, row?.unfinished?.message],
      [3, 5, 'Creating shop on local'],
    );
    assert.equal(m.localTraces('shop.local.vendetta').sshConfigBlock, false, 'no ssh_config block was written');

    const done = await m.up({ path: project }, () => undefined);
    assert.equal(done.unfinished, undefined);
    assert.equal(m.cached()[0]?.unfinished, undefined, 'the next up finished it');
  });

  it('interrupted before the node is asked: nothing was made, and it says so', async () => {
    const cancel = new CancellationTokenSource();
    cancel.cancel();
    const err = await m
      .up({ path: project }, () => undefined, cancel.token)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof VendettaError && err.code === 'CANCELLED');
    assert.equal(err.hint, 'Nothing was made on local.');
    assert.deepEqual(m.cached(), []);
  });

  it('an error of a step taken while interrupted becomes the interruption, keeping the error as its cause', async () => {
    const cancel = new CancellationTokenSource();
    const ops = { store: new WorkspaceStore(workspacesFile(paths)), emitChange: () => undefined };
    const steps = new UpSteps(
      ops,
      { name: 'x', node: 'local', path: '/p', git: true, services: true, forwards: true },
      () => undefined,
      cancel.token,
    );
    steps.progress(1, 7, 'one');
    cancel.cancel();
    const err = await steps
      .guard(() => Promise.reject(new Error('the link went away')))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof VendettaError && err.code === 'CANCELLED');
    assert.equal((err.cause as Error).message, 'the link went away');
    const plain = await new UpSteps(
      ops,
      { name: 'x', node: 'local', path: '/p', git: false, services: false, forwards: false },
      () => undefined,
      undefined,
    )
      .guard(() => Promise.reject(new Error('boom')))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.equal((plain as Error).message, 'boom', 'not interrupted: the error as it was');
  });

  it('a second up of a workspace another request holds says what it waits for', async () => {
    let release!: () => void;
    const held = m.exclusive('local', 'shop', () => new Promise<void>((r) => (release = r)), 'rm');
    await new Promise((r) => setImmediate(r));
    assert.equal(m.busy('local', 'shop'), 'rm');
    const said: string[] = [];
    const up = m.up({ path: project }, (_s, _t, message) => said.push(message));
    for (let i = 0; i < 200 && said.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(said, [
      'Reading the workspace config',
      'Waiting for the `rm` of shop on local that is running to finish',
    ]);
    release();
    await held;
    await up;
    assert.equal(m.busy('local', 'shop'), undefined);
  });

  it('numbers each step by its place in the plan: services and forwards count only when planned', () => {
    const ops = { store: new WorkspaceStore(workspacesFile(paths)), emitChange: () => undefined };
    const said = (services: boolean, forwards: boolean, names: Parameters<UpSteps['say']>[0][]) => {
      const out: string[] = [];
      const steps = new UpSteps(
        ops,
        { name: 'x', node: 'local', path: '/p', git: false, services, forwards },
        (n, t, m) => void out.push(`${n}/${t} ${m}`),
        undefined,
      );
      for (const s of names) steps.say(s, s);
      return out;
    };
    assert.deepEqual(said(false, false, ['config', 'create', 'code']), ['1/5 config', '3/5 create', '5/5 code']);
    assert.deepEqual(said(false, true, ['code', 'forwards']), ['5/6 code', '6/6 forwards']);
    assert.deepEqual(said(true, true, ['services', 'forwards']), ['6/7 services', '7/7 forwards']);
    assert.throws(
      () => said(false, false, ['services']),
      (e: VendettaError) => e.code === 'INTERNAL' && /no services step/.test(e.message),
    );
  });
});

describe("up of a project with features: the features' lifecycle commands and extensions", () => {
  let dir: string;
  let agent: FakeWorkspaceAgent;
  let m: WorkspaceManager;
  let project: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-upfeatures-'));
    project = join(dir, 'shop');
    writeProject(project, {
      '.vendetta/config.yaml':
        'name: shop\ndocker:\n  image: test/debian:12\n  features: { "registry.test/f/tools:1": {} }\nvscode: { extensions: [my.own, Tools.Ext] }\n',
    });
    agent = new FakeWorkspaceAgent('local', join(dir, 'nodes'));
    m = new WorkspaceManager({
      paths: homePaths(join(dir, 'home')),
      log: nullLogger,
      nodes: { agentClient: () => agent },
      proxyCommand: ['/n', '/v', 'ssh-proxy'],
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("starts the services step for the hooks the features add, and returns their extensions with the project's", async () => {
    agent.featuresAdded.set('shop', {
      hooks: ['postCreate'],
      vscode: [{ extensions: ['tools.ext', 'tools.more'], settings: {} }],
    });
    const said: string[] = [];
    const r = await m.up({ path: project }, (step, total, message) => said.push(`${step}/${total} ${message}`));
    assert.ok(said.includes('6/6 Starting services'), said.join('\n'));
    assert.ok(agent.calls.includes('services/start'), agent.calls.join(' '));
    assert.deepEqual(r.vscodeExtensions, ['tools.ext', 'tools.more', 'my.own']);
  });

  it('says there is nothing to run when the features add no lifecycle commands, and starts nothing', async () => {
    const said: string[] = [];
    const r = await m.up({ path: project }, (step, total, message) => said.push(`${step}/${total} ${message}`));
    assert.ok(said.includes('6/6 No services or lifecycle commands to run'), said.join('\n'));
    assert.ok(!agent.calls.includes('services/start'), agent.calls.join(' '));
    assert.deepEqual(r.vscodeExtensions, ['my.own', 'Tools.Ext']);
  });
});
