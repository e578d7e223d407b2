/**
 * The code sync against a hostile workspace: a real container (root inside, its project folder
 * bind-mounted from the node) runs a loop that swaps the synced folder for symlinks to node
 * folders and plants deep trees full of such links where the sync deletes, while the BUILT
 * agent's sync-receive writes and deletes there. Nothing outside the project folder may be
 * written, changed or deleted.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateWorkspace, RemoveWorkspace, type WorkspaceInfo } from '../../agent/protocol';
import { tarBuffer, type TarInput } from '../../common/tar/encode';
import { startDockerd, type Dockerd } from '../infra/docker';
import { ensureTestImage, TEST_IMAGE } from '../infra/image';
import { requireCommands, requireRoot } from '../infra/sys';
import { AGENT_JS, Attached, buildBundles, cleanStaleHomes, TestHome } from './agentHarness';

const SYNCS = 20;
const FOLDERS = 10;
const FILES_PER_FOLDER = 30;

/**
 * Runs in the workspace as root until /tmp/stop exists, in one of two modes.
 * - `write`: `src` and each `src/dN` (the folders the sync writes files into) are renamed away,
 *   a symlink to the node's canary folder put in their place for a moment, then put back.
 * - `delete`: `gone` (which every sync deletes) is made a 12-deep tree; every level holds a link
 *   to the node's precious folder and files named like the precious ones (the top three levels,
 *   whose folders are swapped, also 200 fillers each); those folders are swapped for links to
 *   the precious folder the same way.
 * Counts its swaps in /tmp/swaps ("N done" once it has stopped).
 */
const RACER = String.raw`
const fs = require('fs');
const [mode, canary, precious] = process.argv.slice(1);
process.chdir(process.env.FOLDER);
const t = (f) => { try { f(); return true; } catch { return false; } };
const swap = (path, target) => {
  if (!t(() => fs.renameSync(path, path + '.x'))) return 0;
  t(() => fs.symlinkSync(target, path));
  for (let i = Math.random() * 2000; i > 0; i--);
  t(() => fs.unlinkSync(path));
  if (!t(() => fs.renameSync(path + '.x', path))) t(() => fs.rmSync(path + '.x', { recursive: true, force: true }));
  return 1;
};
const plant = () => {
  const st = (() => { try { return fs.lstatSync('gone'); } catch { return undefined; } })();
  if (st && st.isDirectory()) return;
  t(() => fs.unlinkSync('gone'));
  let p = 'gone';
  for (let i = 0; i < 12; i++) {
    t(() => fs.mkdirSync(p));
    t(() => fs.symlinkSync(precious, p + '/out'));
    for (const n of ['p0', 'p1', 'p2', 'p3', 'p4']) t(() => fs.writeFileSync(p + '/' + n, 'planted'));
    if (i < 3) for (let j = 0; j < 200; j++) t(() => fs.writeFileSync(p + '/z' + j, ''));
    p += '/d';
  }
};
let swaps = 0;
for (let turn = 0; !fs.existsSync('/tmp/stop'); turn++) {
  if (mode === 'write') {
    swaps += swap('src', canary);
    for (let d = 0; d < 10; d++) swaps += swap('src/d' + d, canary);
  } else {
    plant();
    swaps += swap('gone', precious) + swap('gone/d', precious) + swap('gone/d/d', precious);
  }
  if (turn % 10 === 0) fs.writeFileSync('/tmp/swaps', String(swaps));
}
fs.writeFileSync('/tmp/swaps', swaps + ' done');
`;

describe('the code sync cannot be steered out of the workspace folder by the running workspace', function () {
  this.timeout(300_000);
  let dockerd: Dockerd | undefined;
  let home: TestHome | undefined;
  let dir: string;
  let agent: Attached;

  before(async function () {
    this.timeout(300_000);
    requireRoot(this, 'the sync race suite');
    requireCommands(this, 'the sync race suite', ['dockerd', 'docker', 'nsenter', 'debootstrap']);
    buildBundles();
    await cleanStaleHomes();
    dir = mkdtempSync(join(tmpdir(), 'vendetta-race-it-'));
    dockerd = await startDockerd({ dir: join(dir, 'dockerd'), ownNetns: true });
    await ensureTestImage(dockerd.socket);
    home = TestHome.create({ DOCKER_HOST: dockerd.host });
    // attach inside the engine's namespace, where the workspace's published sshd port answers.
    agent = new Attached(
      spawn('nsenter', [...dockerd.nsenter.slice(1, -1), '--', process.execPath, AGENT_JS, 'attach'], {
        env: home.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    home.pids.add((await agent.initialize()).pid);
  });

  after(async () => {
    await home?.dispose();
    await dockerd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const docker = (args: string[]) =>
    spawnSync('docker', ['-H', dockerd!.host, ...args], { encoding: 'utf8', timeout: 60_000 });

  function syncTar(round: number): Buffer {
    const entries: TarInput[] = [
      {
        path: '.vendetta-sync.json',
        type: 'file',
        mode: 0o600,
        data: JSON.stringify({ delete: ['gone', `src/old-${round - 1}`] }),
      },
    ];
    for (let d = 0; d < FOLDERS; d++) {
      entries.push({ path: `src/d${d}/`, type: 'directory', mode: 0o755 });
      for (let f = 0; f < FILES_PER_FOLDER; f++)
        entries.push({
          path: `src/d${d}/f${f}.txt`,
          type: 'file',
          mode: 0o644,
          data: `round ${round} file ${d}/${f}\n`,
        });
    }
    entries.push({ path: `src/old-${round}`, type: 'file', mode: 0o644, data: 'deleted next round' });
    return tarBuffer(entries);
  }

  /** Every file under `root` with its mode and content (links as their target). */
  function snapshot(root: string): string[] {
    const out: string[] = [];
    const walk = (rel: string) => {
      for (const name of readdirSync(join(root, rel)).sort()) {
        const p = rel ? `${rel}/${name}` : name;
        const st = statSync(join(root, p), { throwIfNoEntry: false });
        if (st?.isDirectory()) {
          out.push(`${p}/ ${st.mode.toString(8)} ${st.uid}`);
          walk(p);
        } else out.push(`${p} ${st?.mode.toString(8)} ${st?.uid} ${st ? readFileSync(join(root, p), 'utf8') : 'gone'}`);
      }
    };
    walk('');
    return out;
  }

  async function race(mode: 'write' | 'delete'): Promise<void> {
    const canary = join(dir, `canary-${mode}`);
    const precious = join(dir, `precious-${mode}`);
    mkdirSync(canary);
    mkdirSync(join(precious, 'sub'), { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(precious, `p${i}`), `precious ${i}\n`);
    writeFileSync(join(precious, 'sub', 'f'), 'precious sub\n');
    const preciousBefore = snapshot(precious);
    const name = `race-${mode}`;
    const info: WorkspaceInfo = await agent.conn.sendRequest(CreateWorkspace, {
      spec: {
        name,
        provider: 'docker',
        docker: { image: TEST_IMAGE, cpus: 1, memoryBytes: 512 * 1024 * 1024, pids: 256 },
        env: {},
        user: 'root',
        workspaceFolder: `/workspaces/${name}`,
        // Nobody logs in here; a key is still required.
        authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY race@test'],
      },
    });
    const workspaceDir = join(home!.home, 'workspaces', name);
    const besideBefore = readdirSync(workspaceDir).sort();
    const run = (tar: Buffer) =>
      spawnSync(process.execPath, [AGENT_JS, 'sync-receive', name], {
        input: tar,
        env: home!.env,
        encoding: 'utf8',
        timeout: 120_000,
      });
    const first = run(syncTar(0));
    assert.equal(first.status, 0, first.stdout + first.stderr);

    const racer = docker([
      'exec',
      '-d',
      '-e',
      `FOLDER=/workspaces/${name}`,
      info.providerId!,
      'node',
      '-e',
      RACER,
      mode,
      canary,
      precious,
    ]);
    assert.equal(racer.status, 0, racer.stderr);
    const outcomes: string[] = [];
    try {
      for (let round = 1; round <= SYNCS; round++) {
        const r = run(syncTar(round));
        if (r.status === 0) {
          outcomes.push('ok');
          continue;
        }
        const answer = JSON.parse(r.stdout.trim().split('\n').pop()!) as { error?: { code: string; message: string } };
        outcomes.push(`${answer.error?.code}: ${answer.error?.message}`);
      }
    } finally {
      docker(['exec', info.providerId!, 'touch', '/tmp/stop']);
    }
    // The racer writes its final count when it sees the stop file.
    let swaps = 0;
    for (let i = 0; i < 100; i++) {
      const now = docker(['exec', info.providerId!, 'cat', '/tmp/swaps']).stdout.trim();
      swaps = Number(now.split(' ')[0] || '0');
      if (now.endsWith(' done')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(
      `      ${outcomes.filter((o) => o === 'ok').length}/${SYNCS} syncs applied; the workspace swapped folders for links ${swaps} times`,
    );
    for (const o of new Set(outcomes)) if (o !== 'ok') console.log(`      not applied: ${o.slice(0, 200)}`);
    assert.ok(swaps >= 100, `the race really ran (${swaps} swaps)`);

    assert.deepEqual(readdirSync(canary), [], 'nothing was written into the canary folder');
    assert.deepEqual(snapshot(precious), preciousBefore, 'nothing in the precious folder was deleted or changed');
    assert.deepEqual(readdirSync(workspaceDir).sort(), besideBefore, 'nothing beside the project folder changed');
    // Refusing a sync is allowed (the workspace kept changing the folder); failing otherwise is a defect.
    assert.deepEqual(
      outcomes.filter((o) => o !== 'ok' && !o.startsWith('SYNC_REFUSED: ')),
      [],
    );

    // Once the workspace stops, a sync applies completely.
    const last = run(syncTar(SYNCS + 1));
    assert.equal(last.status, 0, last.stdout + last.stderr);
    const project = info.nodeFolder;
    for (let d = 0; d < FOLDERS; d++) {
      assert.equal(readFileSync(join(project, `src/d${d}/f7.txt`), 'utf8'), `round ${SYNCS + 1} file ${d}/7\n`);
    }
    assert.deepEqual(await agent.conn.sendRequest(RemoveWorkspace, { name, force: true }), { name });
    assert.deepEqual(readdirSync(canary), []);
    assert.deepEqual(snapshot(precious), preciousBefore, 'removing the workspace deleted nothing outside it');
  }

  it('writes only inside the folder while the workspace swaps the synced folders for links to a node folder, 20 syncs of 300 files', () =>
    race('write'));

  it('deletes only inside the folder while the workspace plants deep trees of links to a node folder where a deleted file was, 20 syncs', () =>
    race('delete'));

  it('holds the workspace lock while it writes: a remove of the workspace waits for the sync to end', async () => {
    const name = 'race-lock';
    const info: WorkspaceInfo = await agent.conn.sendRequest(CreateWorkspace, {
      spec: {
        name,
        provider: 'docker',
        docker: { image: TEST_IMAGE, cpus: 1, memoryBytes: 512 * 1024 * 1024, pids: 256 },
        env: {},
        user: 'root',
        workspaceFolder: `/workspaces/${name}`,
        authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY race@test'],
      },
    });
    // A sync cut in the middle of a file: it holds the lock until its input ends.
    const tar = tarBuffer([
      { path: '.vendetta-sync.json', type: 'file', mode: 0o600, data: '{"delete":[]}' },
      { path: 'big', type: 'file', mode: 0o644, data: 'x'.repeat(100_000) },
    ]);
    const sync = spawn(process.execPath, [AGENT_JS, 'sync-receive', name], {
      env: home!.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    sync.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => sync.on('exit', (code) => r(code)));
    sync.stdin.write(tar.subarray(0, 4096));
    const deadline = Date.now() + 20_000;
    while (!readdirSync(info.nodeFolder).some((n) => n.startsWith('.vendetta-sync-'))) {
      assert.ok(Date.now() < deadline, 'the sync started writing');
      await new Promise((r) => setTimeout(r, 50));
    }
    let removed = false;
    const removing = agent.conn.sendRequest(RemoveWorkspace, { name, force: true }).then(() => (removed = true));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(removed, false, 'the remove waits for the sync');
    assert.equal(docker(['inspect', info.providerId!]).status, 0, 'the container is still there');
    sync.stdin.end(tar.subarray(4096));
    assert.equal(await exited, 0, out);
    assert.deepEqual(JSON.parse(out), { written: 1, deleted: 0, bytes: 100_000 });
    await removing;
    assert.notEqual(docker(['inspect', info.providerId!]).status, 0, 'then the remove ran');
  });
});
