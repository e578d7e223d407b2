/**
 * The Docker test infrastructure itself (test/infra/docker.ts, image.ts): private engines start
 * fast, stop completely, and what a killed test run left behind is cleared by the next one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerCalls } from '../../agent/providers/docker/api';
import { cleanStaleDockerds, DOCKERD_DATA, DOCKERD_REGISTRY, startDockerd, type Dockerd } from '../infra/docker';
import { BUSYBOX_IMAGE, ensureBusyboxImage, ensureTestImage } from '../infra/image';
import { pidAlive, requireCommands, requireRoot, run } from '../infra/sys';

const ROOT = join(__dirname, '../..');

function netnsExists(name: string): boolean {
  return run(['ip', 'netns', 'list'], { allowFail: true })
    .stdout.split('\n')
    .some((l) => l.split(' ')[0] === name);
}

describe('private Docker engines for tests', function () {
  this.timeout(120_000);
  let dir: string;
  const started: Dockerd[] = [];

  before(function () {
    requireRoot(this, 'the Docker test-infrastructure suite');
    requireCommands(this, 'the Docker test-infrastructure suite', ['dockerd', 'nsenter', 'iptables']);
    dir = mkdtempSync(join(tmpdir(), 'vendetta-dockerd-it-'));
  });
  after(async () => {
    for (const d of started) await d.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts an engine in its own namespace in well under a few seconds, and stops it without a trace', async () => {
    const t0 = Date.now();
    const d = await startDockerd({ dir: join(dir, 'a'), ownNetns: true, bridge: 'vtdtestbr0', bip: '10.199.7.1/24' });
    started.push(d);
    const startMs = Date.now() - t0;
    console.log(`      dockerd ready in ${startMs} ms`);
    assert.ok(startMs < 15_000);
    assert.ok(d.netns && netnsExists(d.netns));
    assert.match(
      run([...d.nsenter, 'iptables', '-S', 'DOCKER-USER']).stdout,
      /-A DOCKER-USER -i vtdtestbr0 -o vtdtestbr0 -j ACCEPT/,
    );
    assert.match(run([...d.nsenter, 'ip', '-4', 'addr', 'show', 'docker0']).stdout, /10\.199\.7\.1\/24/);
    await ensureBusyboxImage(d.socket);
    await d.engine.json(
      dockerCalls.containerCreate('sleeper', { Image: BUSYBOX_IMAGE, Entrypoint: ['/bin/sleep'], Cmd: ['1000'] }),
    );
    await d.engine.send(dockerCalls.containerStart('sleeper'));
    const t1 = Date.now();
    await d.stop();
    console.log(`      stopped (with a running container) in ${Date.now() - t1} ms`);
    assert.equal(pidAlive(d.pid), false);
    assert.equal(netnsExists(d.netns!), false);
    assert.equal(existsSync(join(DOCKERD_REGISTRY, `${d.id}.json`)), false);
    assert.equal(existsSync(join(DOCKERD_DATA, String(d.id))), false);
    assert.equal(
      run(['grep', '-c', `${DOCKERD_REGISTRY}/${d.id}.x`, '/proc/self/mounts'], { allowFail: true }).stdout.trim(),
      '0',
    );
  });

  it('tears down an engine whose test run was killed, with its containers, before starting another', async () => {
    // A test run that starts an engine and a container, then dies without cleaning up.
    const script = `
      const { startDockerd } = require(${JSON.stringify(join(ROOT, 'test/infra/docker.ts'))});
      const { ensureBusyboxImage, BUSYBOX_IMAGE } = require(${JSON.stringify(join(ROOT, 'test/infra/image.ts'))});
      const { dockerCalls } = require(${JSON.stringify(join(ROOT, 'agent/providers/docker/api.ts'))});
      (async () => {
        const d = await startDockerd({ dir: ${JSON.stringify(join(dir, 'victim'))}, ownNetns: true });
        await ensureBusyboxImage(d.socket);
        const c = await d.engine.json(dockerCalls.containerCreate('orphan', { Image: BUSYBOX_IMAGE, Entrypoint: ['/bin/sleep'], Cmd: ['1000'] }));
        await d.engine.send(dockerCalls.containerStart('orphan'));
        const info = (await d.engine.json(dockerCalls.containerInspect('orphan'))).value;
        console.log(JSON.stringify({ id: d.id, pid: d.pid, netns: d.netns, containerPid: info.State.Pid }));
        setInterval(() => {}, 1 << 30);
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`the victim run exited early (${code})`)));
    });
    const victim = JSON.parse(line) as { id: number; pid: number; netns: string; containerPid: number };
    assert.ok(pidAlive(victim.containerPid));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(pidAlive(victim.pid), 'the engine outlives its killed test run…');
    cleanStaleDockerds();
    assert.equal(pidAlive(victim.pid), false, '…until the next run clears it');
    assert.equal(pidAlive(victim.containerPid), false, 'its containers go too');
    // Files of the suite running beside this one may start an engine meanwhile and be given the
    // freed id, with its netns and folder names: those are theirs, not left over.
    const regFile = join(DOCKERD_REGISTRY, `${victim.id}.json`);
    const reclaimed = () => {
      try {
        return (JSON.parse(readFileSync(regFile, 'utf8')) as { owner?: number }).owner !== child.pid;
      } catch {
        return false;
      }
    };
    assert.ok(!netnsExists(victim.netns) || reclaimed(), `the netns ${victim.netns} is gone`);
    assert.ok(!existsSync(regFile) || reclaimed(), `the registration ${regFile} is gone`);
    assert.ok(!existsSync(join(DOCKERD_DATA, String(victim.id))) || reclaimed(), 'the data root is gone');
  });

  it('imports the cached workspace image fast when warm, and reuses it when present', async function () {
    this.timeout(300_000);
    requireCommands(this, 'the image builder', ['debootstrap']);
    const d = await startDockerd({ dir: join(dir, 'img'), ownNetns: true });
    started.push(d);
    const first = await ensureTestImage(d.socket);
    const t0 = Date.now();
    const second = await ensureTestImage(d.socket);
    const presentMs = Date.now() - t0;
    console.log(
      `      image: ${first.built ? `debootstrap ${first.buildMs} ms, ` : ''}import ${first.importMs} ms; already present: ${presentMs} ms`,
    );
    assert.equal(first.imported, true);
    assert.deepEqual([second.built, second.imported], [false, false]);
    assert.ok(presentMs < 2_000);
  });
});
