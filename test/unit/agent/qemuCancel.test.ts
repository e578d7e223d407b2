import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../../agent/errors';
import type { GuestConnection } from '../../../agent/providers/qemu/guestSsh';
import { putGuestFiles } from '../../../agent/providers/qemu/guestSetup';
import { publishGuestPort } from '../../../agent/providers/qemu/hostForward';
import { QemuProvider } from '../../../agent/providers/qemu/provider';
import { QmpFramer } from '../../../agent/providers/qemu/qmp';
import { endVm } from '../../../agent/providers/qemu/vmProcess';
import type { VmRecord } from '../../../agent/providers/qemu/vmStore';

const aborted = (): { signal: AbortSignal } => {
  const c = new AbortController();
  c.abort();
  return { signal: c.signal };
};
const cancelled = (err: unknown): boolean =>
  err instanceof AgentError && err.code === 'PROVIDER_ERROR' && /was cancelled$/.test(err.message);

describe('QEMU provider calls honour their abort signal', () => {
  let d: string;
  beforeEach(() => (d = mkdtempSync(join(tmpdir(), 'vendetta-qemu-cancel-'))));
  afterEach(() => rmSync(d, { recursive: true, force: true }));

  /** A provider with one VM that was made and never booted: every call on it is a folder read. */
  function providerWithVm(): { provider: QemuProvider; rec: VmRecord } {
    const provider = new QemuProvider({ root: join(d, 'qemu'), binary: '/nonexistent/qemu-system-x86_64' });
    provider.store.ensureDir('vm1');
    const rec: VmRecord = {
      v: 1,
      id: 'vm1',
      name: 'w',
      labels: { 'dev.vendetta.workspace': 'w' },
      image: '/images/base.qcow2',
      createdAt: new Date().toISOString(),
      wanted: 'stopped',
      accel: 'tcg',
      boot: { cpus: 1, memoryMiB: 256 },
      ports: { ssh: 41022, control: 41023, services: [] },
      nodeFolder: d,
      workspaceFolder: '/workspaces/w',
      hostPublicKey: 'ssh-ed25519 AAAA',
      ssh: { binary: '/usr/sbin/sshd', configPath: '/etc/vendetta/sshd_config' },
    };
    provider.store.write(rec);
    return { provider, rec };
  }

  it('stop, remove, inspect, list, putFiles and logs stop when their signal is aborted, and leave the VM as it was', async () => {
    const { provider } = providerWithVm();
    await assert.rejects(provider.stop('vm1', aborted()), cancelled);
    await assert.rejects(provider.remove('vm1', aborted()), cancelled);
    await assert.rejects(provider.inspect('vm1', aborted()), cancelled);
    await assert.rejects(provider.list(aborted()), cancelled);
    await assert.rejects(
      provider.putFiles('vm1', [{ path: '/etc/x', type: 'file', mode: 0o644, content: 'x' }], aborted()),
      cancelled,
    );
    await assert.rejects(provider.logs('vm1', 20, aborted()), cancelled);
    // Nothing was removed or queued; without a signal the same calls work.
    assert.ok(existsSync(provider.store.dir('vm1')));
    assert.equal(existsSync(provider.store.files('vm1').pending), false);
    assert.equal((await provider.inspect('vm1'))?.state, 'created');
    assert.deepEqual(
      (await provider.list()).map((w) => w.providerId),
      ['vm1'],
    );
  });

  it('publishing a port and writing files into the guest stop before their first step once aborted', async () => {
    // Never reached: QMP on a missing socket would fail otherwise, the guest connection would be used.
    await assert.rejects(publishGuestPort(join(d, 'none.sock'), 8080, undefined, aborted().signal), cancelled);
    const conn = {
      run: () => Promise.reject(new Error('the guest was asked')),
    } as unknown as GuestConnection;
    await assert.rejects(
      putGuestFiles(conn, [{ path: '/etc/x', type: 'file', mode: 0o644, content: 'x' }], aborted().signal),
      cancelled,
    );
  });

  it("a stop's wait for the guest to power off ends when the signal is aborted", async () => {
    const sock = join(d, 'qmp.sock');
    const pidFile = join(d, 'qemu.pid');
    // QEMU as a stop sees it: a process naming the QMP socket that outlives the power button.
    const srv = createServer((c) => {
      c.write('{"QMP": {"version": {}, "capabilities": []}}\r\n');
      const f = new QmpFramer();
      c.on('data', (chunk) => {
        for (const line of f.push(chunk))
          c.write(`{"return": {}, "id": "${(JSON.parse(line) as { id: string }).id}"}\r\n`);
      });
    }).listen(sock);
    const child = spawn('sh', ['-c', 'sleep 30', sock], { stdio: 'ignore' });
    try {
      await new Promise((r) => srv.once('listening', r));
      writeFileSync(pidFile, `${child.pid}\n`);
      const c = new AbortController();
      setTimeout(() => c.abort(), 300);
      const t0 = Date.now();
      await assert.rejects(endVm(pidFile, sock, 60_000, c.signal), cancelled);
      assert.ok(Date.now() - t0 < 5_000, 'the 60 s grace was not waited out');
    } finally {
      child.kill('SIGKILL');
      srv.close();
    }
  });
});
