import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileContentId, linkContentId } from '../../agent/protocol';
import { GuestCopies } from '../../agent/providers/qemu/guestCopy';
import { pushToGuest, type PushOptions } from '../../agent/providers/qemu/guestPush';
import { guestEntries, guestRead } from '../../agent/providers/qemu/guestTree';
import { GuestConnection } from '../../agent/providers/qemu/guestSsh';
import { VmStore, type VmRecord } from '../../agent/providers/qemu/vmStore';
import { changesOf } from '../../agent/sync/scan';
import { createTestNodes, type TestNode, type TestNodes } from '../infra/nodes';
import { requireCommands, requireRoot } from '../infra/sys';

/**
 * The project's copy in a VM without 9p, against a real OpenSSH server standing in for the guest
 * (a test node: its own sh, find, tar and coreutils, over a real SSH connection held by the
 * agent's ssh2 client): the push from the node folder, the scan and read that answer the sync
 * from the guest, an edit made in the guest kept (a conflict, never overwritten), and a guest
 * that plants links. No VM boots here (the QEMU suite boots the one VM of the run).
 */
describe('QEMU without 9p: the project copied into the guest over SSH, three-way', function () {
  this.timeout(120_000);
  let net: TestNodes | undefined;
  let node: TestNode;
  let conn: GuestConnection;
  let local: string;
  let guestFolder: string;
  let outside: string;
  let push: (o?: Partial<PushOptions>) => ReturnType<typeof pushToGuest>;

  const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
  const fileId = (text: string, exec = false): string => fileContentId(sha(text), exec);
  /** A shell command in the guest (as the node's user), its stdout. */
  const inGuest = async (script: string): Promise<string> => {
    const r = await conn.run(script, { timeoutMs: 30_000 });
    assert.equal(r.exitCode, 0, `${script}: ${r.stderr}`);
    return r.stdout;
  };
  const q = (p: string): string => `'${p.replace(/'/g, `'\\''`)}'`;
  const guestText = (rel: string): Promise<string> => inGuest(`cat ${q(`${guestFolder}/${rel}`)}`);

  before(async function () {
    requireRoot(this, 'the QEMU project-copy suite');
    requireCommands(this, 'the QEMU project-copy suite', ['sshd', 'ip', 'find', 'tar', 'sha256sum']);
    net = await createTestNodes({ count: 1, label: 'qcopy' });
    node = net.nodes[0]!;
    conn = new GuestConnection({
      host: node.host,
      port: node.port,
      user: node.user,
      privateKey: readFileSync(net.clientKey.privateKeyPath, 'utf8'),
      hostPublicKey: readFileSync(`${node.hostKeyPath}.pub`, 'utf8'),
    });
    local = mkdtempSync(join(tmpdir(), 'vendetta-qcopy-'));
    mkdirSync(join(local, 'node'));
    guestFolder = `${node.home}/workspace`;
    outside = `${node.home}/outside`;
    await inGuest(`rm -rf ${q(guestFolder)} ${q(outside)} && mkdir -p ${q(outside)} && echo mine > ${q(outside)}/b.sh`);
    push = (o = {}) =>
      pushToGuest({ conn, nodeFolder: join(local, 'node'), guestFolder, baseFile: join(local, 'copy.json'), ...o });
  });

  let standIn: ChildProcess | undefined;

  after(async () => {
    standIn?.kill('SIGKILL');
    conn?.close();
    if (local) rmSync(local, { recursive: true, force: true });
    await net?.destroy();
  });

  it('copies the node folder in, answers the scan from the guest, and keeps an edit made in the guest', async () => {
    const n = join(local, 'node');
    mkdirSync(join(n, 'dir'));
    writeFileSync(join(n, 'a.txt'), 'from the laptop\n');
    writeFileSync(join(n, 'dir', 'b.sh'), '#!/bin/sh\necho b\n');
    chmodSync(join(n, 'dir', 'b.sh'), 0o755);
    symlinkSync('a.txt', join(n, 'link'));
    const odd = ['-dash', 'with space', "quote'd", 'new\nline', 'ünï'].map((x) => `dir/${x}`);
    for (const o of odd) writeFileSync(join(n, o), o);

    const first = await push();
    assert.deepEqual([first.written, first.deleted, first.keptInGuest], [3 + odd.length, 0, []]);
    assert.equal(await guestText('a.txt'), 'from the laptop\n');
    assert.equal((await inGuest(`stat -c %a ${q(`${guestFolder}/dir/b.sh`)}`)).trim(), '755');
    assert.equal((await inGuest(`readlink ${q(`${guestFolder}/link`)}`)).trim(), 'a.txt');
    for (const o of odd) assert.equal(await guestText(o), o, `${JSON.stringify(o)} arrives under its own name`);
    assert.deepEqual(await push(), { written: 0, deleted: 0, keptInGuest: [] }, 'nothing changed: nothing sent');

    // The scan, as the coordinator asks it: the ids it expects, nothing changed.
    const expect = [
      { path: 'a.txt', id: fileId('from the laptop\n') },
      { path: 'dir/b.sh', id: fileId('#!/bin/sh\necho b\n', true) },
      { path: 'link', id: linkContentId(sha('a.txt')) },
      ...odd.map((o) => ({ path: o, id: fileId(o) })),
      { path: 'never/there', id: fileId('x') },
    ];
    const seen = await guestEntries(conn, guestFolder, expect);
    // (A change with only a stat: the same content, its stat now known.)
    assert.deepEqual(
      changesOf(expect, seen)
        .filter((c) => c.kind !== undefined || c.stat === undefined)
        .map((c) => [expect[c.i]!.path, c.id]),
      [['never/there', undefined]],
      'the guest holds what was pushed; a path it lacks is said to be gone',
    );
    // With the stats it reported, an unchanged file is not hashed again, and still matches.
    const withStats = expect.map((e, i) => ({ ...e, ...(seen[i]!.stat ? { stat: seen[i]!.stat! } : {}) }));
    assert.deepEqual(changesOf(withStats, await guestEntries(conn, guestFolder, withStats)).length, 1);

    // Edited in the guest, and on the laptop too: the guest's edit is what the scan reports,
    // and a push that was not decided against it keeps it.
    await inGuest(`echo 'edited in the VM' > ${q(`${guestFolder}/a.txt`)}`);
    const [now] = await guestEntries(conn, guestFolder, [expect[0]!]);
    assert.deepEqual([now!.kind, now!.id], ['file', fileId('edited in the VM\n')]);
    assert.deepEqual(await guestRead(conn, guestFolder, 'a.txt'), {
      kind: 'file',
      content: Buffer.from('edited in the VM\n').toString('base64'),
      encoding: 'base64',
      size: 17,
    });
    writeFileSync(join(n, 'a.txt'), 'laptop again\n');
    const kept = await push();
    assert.deepEqual(kept.keptInGuest, ['a.txt']);
    assert.equal(await guestText('a.txt'), 'edited in the VM\n', 'the edit made in the guest is not overwritten');
    assert.deepEqual((await push()).keptInGuest, ['a.txt'], 'nor by the next push');

    // The coordinator's sync decided it (laptop wins, after seeing the guest's version): applied.
    const forced = await push({ forced: new Set(['a.txt']) });
    assert.deepEqual([forced.written, forced.keptInGuest], [1, []]);
    assert.equal(await guestText('a.txt'), 'laptop again\n');

    // Deleted on the node: gone from the guest, unless the guest changed it meanwhile.
    await inGuest(`echo 'guest work' > ${q(`${guestFolder}/dir/-dash`)}`);
    unlinkSync(join(n, 'dir', '-dash'));
    unlinkSync(join(n, 'dir', 'with space'));
    const del = await push();
    assert.deepEqual([del.deleted, del.keptInGuest], [1, ['dir/-dash']]);
    assert.equal(await guestText('dir/-dash'), 'guest work\n');
    assert.equal(
      (await inGuest(`[ -e ${q(`${guestFolder}/dir/with space`)} ] && echo there || echo gone`)).trim(),
      'gone',
    );
  });

  it('a guest that puts links in the way: nothing is written through them, in the guest or on the node', async () => {
    const n = join(local, 'node');
    // The guest swaps its folder dir for a link out of the project, and plants a link to a secret.
    await inGuest(`rm -rf ${q(`${guestFolder}/dir`)} && ln -s ${q(outside)} ${q(`${guestFolder}/dir`)}`);
    await inGuest(`ln -s /etc/passwd ${q(`${guestFolder}/secret`)}`);
    writeFileSync(join(n, 'dir', 'b.sh'), 'laptop b\n');

    const [b, secret] = await guestEntries(conn, guestFolder, [{ path: 'dir/b.sh' }, { path: 'secret' }]);
    assert.deepEqual(b!.kind, 'blocked', 'a path below a link is not looked up through it');
    assert.deepEqual([secret!.kind, secret!.id], ['symlink', linkContentId(sha('/etc/passwd'))]);
    assert.deepEqual(await guestRead(conn, guestFolder, 'secret'), {
      kind: 'symlink',
      content: '/etc/passwd',
      encoding: 'utf8',
    });
    assert.deepEqual(await guestRead(conn, guestFolder, 'dir/b.sh'), { kind: 'blocked' });

    const r = await push();
    assert.ok(r.keptInGuest.includes('dir/b.sh'), `kept: ${r.keptInGuest.join(', ')}`);
    assert.equal((await inGuest(`cat ${q(`${outside}/b.sh`)}`)).trim(), 'mine', 'nothing written through the link');

    // Even a path the sync decided goes in as a real folder, the link replaced, not followed.
    await push({ forced: new Set(['dir/b.sh']) });
    assert.equal((await inGuest(`cat ${q(`${outside}/b.sh`)}`)).trim(), 'mine');
    assert.equal((await inGuest(`[ -L ${q(`${guestFolder}/dir`)} ] && echo link || echo folder`)).trim(), 'folder');
    assert.equal(await guestText('dir/b.sh'), 'laptop b\n');
    assert.equal(readFileSync(join(n, 'dir', 'b.sh'), 'utf8'), 'laptop b\n', 'the node folder is only ever read');
  });

  it("a VM's copy: the sync reads the guest once it answers, and what a sync decided against it is applied, else the guest's edit is kept", async () => {
    const store = new VmStore(join(local, 'qemu'));
    const id = 'copyvm-1';
    store.ensureDir(id);
    const files = store.files(id);
    const nodeFolder = join(local, 'node2');
    mkdirSync(nodeFolder);
    writeFileSync(join(nodeFolder, 'x'), 'n1\n');
    const rec = {
      v: 1,
      id,
      name: 'copyvm',
      labels: {},
      image: '/i',
      createdAt: new Date().toISOString(),
      wanted: 'running',
      accel: 'tcg',
      boot: { cpus: 1, memoryMiB: 256 },
      ports: { ssh: 1, control: 2, services: [] },
      nodeFolder,
      workspaceFolder: `${node.home}/copyvm`,
      projectShare: 'auto',
      share: 'ssh',
      hostPublicKey: '',
      ssh: { binary: '/usr/sbin/sshd', configPath: '/etc/ssh/sshd_config' },
    } satisfies VmRecord;
    store.write(rec);
    // The VM's process as the agent knows one: its pid file, its command line naming the QMP socket.
    standIn = spawn('sh', ['-c', 'sleep 600', files.qmp], { stdio: 'ignore' });
    writeFileSync(files.pid, `${standIn.pid}\n`);
    const copies = new GuestCopies(store, () => conn);
    const said: string[] = [];
    const entry = [{ path: 'x', id: fileId('n1\n') }];

    copies.starting.add(id);
    assert.equal(await copies.scan(id, entry), undefined, 'booting: the node folder answers');
    copies.starting.delete(id);
    const first = await copies.push(store.read(id)!, (m) => said.push(m));
    assert.equal(first.written, 1);
    assert.match(said.join('\n'), /Project copied into the VM: 1 written, 0 deleted/);
    assert.deepEqual(await copies.scan(id, entry).then((c) => c?.filter((x) => x.kind)), []);

    // Changed in the guest; the sync saw it (scan), and decided to send the laptop's anyway (--overwrite).
    await inGuest(`echo g > ${q(`${rec.workspaceFolder}/x`)}`);
    const seen = await copies.scan(id, entry);
    assert.deepEqual(
      seen?.map((c) => c.id),
      [fileId('g\n')],
      "the scan reads the guest's file",
    );
    assert.deepEqual(await copies.read(id, 'x'), {
      kind: 'file',
      content: Buffer.from('g\n').toString('base64'),
      encoding: 'base64',
      size: 2,
    });
    writeFileSync(join(nodeFolder, 'x'), 'n2\n');
    await copies.received(id, ['x'], { uid: node.uid, gid: node.uid });
    assert.equal(await inGuest(`cat ${q(`${rec.workspaceFolder}/x`)}`), 'n2\n');
    assert.deepEqual(store.read(id)?.guestOwner, { uid: node.uid, gid: node.uid }, 'the owner is kept for later boots');

    // Written on the node without a scan of the guest first: the guest's edit is kept.
    await inGuest(`echo g2 > ${q(`${rec.workspaceFolder}/x`)}`);
    writeFileSync(join(nodeFolder, 'x'), 'n3\n');
    await copies.received(id, ['x']);
    assert.equal(await inGuest(`cat ${q(`${rec.workspaceFolder}/x`)}`), 'g2\n');
    const kept = await copies.push(store.read(id)!, (m) => said.push(m));
    assert.deepEqual(kept.keptInGuest, ['x']);
    assert.match(said.at(-1)!, /Kept 1 file\(s\) changed inside the VM \(x\)/);

    // A VM that shares the folder, or one whose process is gone: the node folder answers, nothing is pushed.
    store.update(id, { share: '9p' });
    assert.equal(await copies.scan(id, entry), undefined);
    assert.equal(await copies.read(id, 'x'), undefined);
    store.update(id, { share: 'ssh' });
    standIn.kill('SIGKILL');
    await new Promise((r) => standIn!.once('exit', r));
    assert.equal(await copies.scan(id, entry), undefined);
    writeFileSync(join(nodeFolder, 'x'), 'n4\n');
    await copies.received(id, ['x']);
    assert.equal(await inGuest(`cat ${q(`${rec.workspaceFolder}/x`)}`), 'g2\n');
  });
});
