/**
 * `lxc.image: remote:alias` on a real LXD: the node's LXD (empty store) pulls the image itself from
 * a remote its `lxc` client has configured — a second private LXD in the same network namespace
 * serving the run's cached test image, public, over HTTPS on loopback (nothing leaves the machine).
 * One workspace life: up from the remote (its progress passed on), SSH into it, rm.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LXD_PRESEED, lxdInit, startLxd, TEST_LXD_IMAGE, type Lxd } from '../infra/lxd';
import { requireRoot } from '../infra/sys';
import { createCliHome, type CliHome } from './coordinatorHarness';
import { commandsIn } from './workspaceHarness';

describe('an LXD image from a remote the node has configured: LXD fetches it itself', function () {
  let source: Lxd | undefined;
  let node: Lxd | undefined;
  let h: CliHome | undefined;

  before(async function () {
    requireRoot(this, 'the LXD remote image test');
    this.timeout(600_000);
    source = await startLxd();
    node = await startLxd({ netns: source.netns, init: false });
    lxdInit(node, LXD_PRESEED);
  });

  after(async function () {
    this.timeout(180_000);
    await h?.cleanup();
    await node?.stop();
    await source?.stop();
  });

  it('up from src:alias pulls over loopback HTTPS with progress; the workspace answers SSH; rm leaves nothing', async function () {
    this.timeout(400_000);
    const port = 18443 + source!.id;
    const api = source!.client;
    await api.json({
      method: 'PATCH',
      path: '/1.0',
      json: { config: { 'core.https_address': `127.0.0.1:${port}` } },
      accept: [200],
      what: 'listen',
    });
    const alias = await api.json({
      method: 'GET',
      path: `/1.0/images/aliases/${TEST_LXD_IMAGE}`,
      accept: [200],
      what: 'alias',
    });
    const fp = (alias.value as { metadata: { target: string } }).metadata.target;
    await api.json({
      method: 'PATCH',
      path: `/1.0/images/${fp}`,
      json: { public: true },
      accept: [200],
      what: 'public',
    });
    // The node's lxc client config, as `lxc remote add src https://127.0.0.1:PORT --public` writes it.
    const conf = node!.env.LXD_CONF!;
    mkdirSync(join(conf, 'servercerts'), { recursive: true });
    writeFileSync(
      join(conf, 'config.yml'),
      `default-remote: local\nremotes:\n  src:\n    addr: https://127.0.0.1:${port}\n    protocol: lxd\n    public: true\n`,
    );
    copyFileSync(join(source!.dir, 'server.crt'), join(conf, 'servercerts', 'src.crt'));

    h = createCliHome();
    const env = commandsIn(h, node!.nsenter, { LXD_DIR: node!.dir, LXD_CONF: conf });
    const project = join(h.dir, 'projects', 'pulled');
    mkdirSync(join(project, '.vendetta'), { recursive: true });
    writeFileSync(join(project, 'marker.txt'), 'pulled\n');
    writeFileSync(
      join(project, '.vendetta', 'config.yaml'),
      `name: pulled\nprovider: lxc\nlxc:\n  image: src:${TEST_LXD_IMAGE}\n`,
    );
    const up = await env.cli(['workspace', 'up', project], { timeoutMs: 300_000 });
    assert.equal(up.code, 0, up.stderr);
    const said = up.stdout + up.stderr;
    assert.match(said, new RegExp(`LXD fetches src:${TEST_LXD_IMAGE} from https://127\\.0\\.0\\.1:${port}`));
    // LXD reports the download (and its unpacking) as it goes, and up passes each figure on; on an
    // idle machine the loopback download is over before LXD's first download figure, the unpack's remains.
    const progress = said.split('\n').filter((l) => /Image src:\S+: (Unpack: )?\d+(\.\d+)?(MB|%) \(/.test(l));
    // LXD reports an operation's progress about once a second: a pull and unpack done within a few
    // seconds may have no figure at all; a longer one must show them.
    const createS = Number(/Creating the instance vendetta-pulled;[^\n]* (\d+(?:\.\d+)?) s$/m.exec(said)?.[1] ?? 0);
    if (createS >= 5) assert.ok(progress.length >= 1, said);
    const cat = await env.ssh('pulled.local.vendetta', ['cat', '/workspaces/pulled/marker.txt']);
    assert.deepEqual([cat.code, cat.stdout], [0, 'pulled\n'], cat.stderr);
    const images = await node!.client.json({
      method: 'GET',
      path: '/1.0/images',
      accept: [200],
      what: 'images',
    });
    assert.deepEqual(
      (images.value as { metadata: string[] }).metadata.map((p) => p.split('/').pop()),
      [fp],
      "the node's LXD holds the image it pulled (same fingerprint)",
    );
    assert.equal((await env.cli(['workspace', 'rm', 'pulled', '--force'])).code, 0);
    assert.deepEqual(await node!.instances(), []);

    // A remote the node does not have: a clear error that says how to add it.
    writeFileSync(join(project, '.vendetta', 'config.yaml'), `name: pulled\nprovider: lxc\nlxc:\n  image: nowhere:x\n`);
    const bad = await env.cli(['workspace', 'up', project], { timeoutMs: 120_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /^error: The node has no LXD remote named nowhere/m);
    assert.match(bad.stderr, /lxc remote add nowhere/);
  });
});
