import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatorArgv, hostfwds, optValue, overlayArgv, refusedForwardPort } from '../../../agent/providers/qemu/argv';
import { cleanConsoleLine, ConsoleFollower, consoleTail, poweredOff } from '../../../agent/providers/qemu/console';
import { envPreamble, guestCommand, shellQuote } from '../../../agent/providers/qemu/guestCommand';
import { INSTALL_UNIT_SCRIPT, mountProjectScript, sshdUnit } from '../../../agent/providers/qemu/guestSetup';
import { buildIso, isoName } from '../../../agent/providers/qemu/iso9660';
import { hostKeyOf, readPending, writePending } from '../../../agent/providers/qemu/pendingFiles';
import { parseImageInfo } from '../../../agent/providers/qemu/qemuImg';
import {
  parseQmpLine,
  parseQueryStatus,
  QmpError,
  QmpFramer,
  QmpSession,
  qmpCalls,
  qmpOnce,
} from '../../../agent/providers/qemu/qmp';
import { endVm, livePid, qmpStatus, vmNodeUsage } from '../../../agent/providers/qemu/vmProcess';
import {
  CONTROL_GUEST_PORT,
  CONTROL_KEYS_PATH,
  controlSshdDropIn,
  metaData,
  seedImage,
  userData,
} from '../../../agent/providers/qemu/seed';
import { sshdFiles, SSHD_CONFIG } from '../../../agent/workspaces/sshd';
import { generateHostKey } from '../../../agent/workspaces/hostKey';
import type { WorkspaceSpec } from '../../../agent/protocol';

describe('QEMU provider: QMP framing', () => {
  it('reassembles lines split across chunks and skips blank ones', () => {
    const f = new QmpFramer();
    assert.deepEqual(f.push('{"return": {}, "id"'), []);
    assert.deepEqual(f.push(': "1"}\r\n\r\n{"event": "STOP"}\r\n{"ret'), [
      '{"return": {}, "id": "1"}',
      '{"event": "STOP"}',
    ]);
    assert.deepEqual(f.push('urn": 1}\n'), ['{"return": 1}']);
  });

  it('tells a greeting, a reply, an error and an event apart', () => {
    assert.deepEqual(
      parseQmpLine(
        '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}',
      ),
      { kind: 'greeting', version: '7.2.22' },
    );
    assert.deepEqual(parseQmpLine('{"return": {"status": "running", "running": true}, "id": "3"}'), {
      kind: 'return',
      id: '3',
      value: { status: 'running', running: true },
    });
    assert.deepEqual(
      parseQmpLine('{"error": {"class": "CommandNotFound", "desc": "The command x has not been found"}, "id": "4"}'),
      { kind: 'error', id: '4', class: 'CommandNotFound', desc: 'The command x has not been found' },
    );
    assert.deepEqual(parseQmpLine('{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "POWERDOWN"}'), {
      kind: 'event',
      event: 'POWERDOWN',
    });
    assert.throws(() => parseQmpLine('[1]'), /not a QMP message/);
    assert.throws(() => parseQmpLine('{"what": 1}'), /not a QMP message/);
  });

  it('reads query-status and refuses other shapes', () => {
    assert.deepEqual(parseQueryStatus({ status: 'paused', singlestep: false, running: false }), {
      status: 'paused',
      running: false,
    });
    assert.throws(() => parseQueryStatus({ status: 1 }), /unexpected query-status reply/);
  });

  it('describes its commands as data', () => {
    assert.deepEqual(
      [qmpCalls.capabilities(), qmpCalls.queryStatus(), qmpCalls.powerdown(), qmpCalls.quit()].map((c) => c.execute),
      ['qmp_capabilities', 'query-status', 'system_powerdown', 'quit'],
    );
  });
});

describe('QEMU provider: command lines', () => {
  const ports = { ssh: 40022, control: 40023, services: [{ guestPort: 3000, nodePort: 3000 }] };

  it('forwards SSH, the control server and each service port on 127.0.0.1 only', () => {
    assert.deepEqual(hostfwds(ports), [
      'hostfwd=tcp:127.0.0.1:40022-:22',
      `hostfwd=tcp:127.0.0.1:40023-:${CONTROL_GUEST_PORT}`,
      'hostfwd=tcp:127.0.0.1:3000-:3000',
    ]);
  });

  it('daemonizes with a pid file, QMP socket, console file, overlay, seed and the 9p project share', () => {
    const argv = emulatorArgv({
      dir: '/h/qemu/a,b',
      name: 'ws',
      accel: 'tcg',
      boot: { cpus: 2, memoryMiB: 1024, kernel: '/k', initrd: '/i', append: 'root=/dev/vda' },
      ports,
      nodeFolder: '/n/p,q',
    });
    const at = (flag: string): string | undefined => argv[argv.indexOf(flag) + 1];
    assert.equal(at('-accel'), 'tcg');
    assert.ok(!argv.includes('-cpu'), 'TCG keeps the default CPU model');
    assert.equal(at('-m'), '1024M');
    assert.ok(argv.includes('-daemonize'));
    assert.equal(at('-pidfile'), '/h/qemu/a,b/qemu.pid');
    assert.equal(at('-qmp'), 'unix:/h/qemu/a,,b/qmp.sock,server=on,wait=off');
    assert.equal(at('-serial'), 'file:/h/qemu/a,b/console.log');
    assert.equal(at('-virtfs'), 'local,path=/n/p,,q,mount_tag=vendetta-project,security_model=none,id=project');
    assert.deepEqual([at('-kernel'), at('-initrd'), at('-append')], ['/k', '/i', 'root=/dev/vda']);
    assert.ok(argv.join(' ').includes('file=/h/qemu/a,,b/seed.iso,if=virtio,format=raw,readonly=on'));
    const kvm = emulatorArgv({
      dir: '/d',
      name: 'ws',
      accel: 'kvm',
      boot: { cpus: 1, memoryMiB: 512, append: 'ignored without a kernel' },
      ports,
    });
    assert.equal(kvm[kvm.indexOf('-cpu') + 1], 'host');
    assert.ok(!kvm.includes('-append') && !kvm.includes('-kernel'));
    assert.ok(!kvm.includes('-virtfs'), 'no node folder: the project is copied in over SSH, nothing shared');
  });

  it('doubles commas in option values', () => {
    assert.equal(optValue('a,b,,c'), 'a,,b,,,,c');
  });

  it("makes the overlay in the base image's format, with a size only when growing", () => {
    assert.deepEqual(overlayArgv({ path: '/b.raw', format: 'raw' }, '/d.qcow2'), [
      'create',
      '-f',
      'qcow2',
      '-F',
      'raw',
      '-b',
      '/b.raw',
      '/d.qcow2',
    ]);
    assert.deepEqual(overlayArgv({ path: '/b', format: 'qcow2' }, '/d', 20 * 2 ** 30).slice(-1), [
      String(20 * 2 ** 30),
    ]);
    assert.deepEqual(parseImageInfo('{"virtual-size": 4294967296, "filename": "b", "format": "qcow2"}'), {
      format: 'qcow2',
      virtualSize: 4294967296,
    });
    assert.throws(() => parseImageInfo('{"format": 1}'), /unexpected qemu-img info/);
  });

  it("recognises QEMU's words for a taken forwarded port", () => {
    assert.equal(
      refusedForwardPort(
        "qemu-system-x86_64: -nic user,hostfwd=tcp:127.0.0.1:3000-:3000: Could not set up host forwarding rule 'tcp:127.0.0.1:3000-:3000'",
      ),
      3000,
    );
    assert.equal(refusedForwardPort('qemu-system-x86_64: -drive file=x: Could not open'), undefined);
  });
});

describe('QEMU provider: commands run in the guest over SSH', () => {
  const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });

  it('quotes every word so the login shell passes it through unchanged', () => {
    const hostile = ['printf', '%s|', "it's", '$(touch /tmp/x)', '`id`', 'a b', '*', '"'];
    assert.equal(sh(guestCommand(hostile)), 'it\'s|$(touch /tmp/x)|`id`|a b|*|"|');
    assert.equal(shellQuote("'"), `''\\'''`);
  });

  it('enters the working folder, sets the environment from stdin (never the command line) and switches user', () => {
    const env = { X: '1 2', Y: '$HOME', SECRET: 'a\\b\nline 2 \'"`x` %s\\n\n' };
    const cmd = guestCommand(['sh', '-c', 'printf "%s|%s|%s|" "$X" "$Y" "$SECRET"; pwd; cat'], {
      env,
      workingDir: '/',
    });
    assert.ok(!cmd.includes('line 2') && !cmd.includes('1 2'), 'no value in the command ps would show');
    const input = Buffer.concat([envPreamble(env), Buffer.from('the rest of stdin')]);
    assert.equal(
      execFileSync('sh', ['-c', cmd], { input, encoding: 'utf8' }),
      `1 2|$HOME|${env.SECRET}|/\nthe rest of stdin`,
    );
    // A tty exec (its stdin echoed by a terminal) keeps `env` in the command.
    assert.equal(guestCommand(['id'], { env: { A: '1' }, tty: true }), "exec 'env' 'A=1' 'id'");
    assert.equal(guestCommand(['id'], { user: 'dev' }), "exec 'runuser' '-u' 'dev' '--' 'id'");
    assert.equal(guestCommand(['id'], { user: 'root' }), "exec 'id'");
    assert.throws(() => guestCommand(['id'], { env: { 'A;B': '1' } }), /not an environment variable name/);
    assert.throws(() => guestCommand([]), /empty argv/);
  });

  it("runs the workspace sshd under the guest's init, in the foreground, on the agent's config", () => {
    const unit = sshdUnit({ binary: '/usr/sbin/sshd', configPath: '/etc/vendetta/sshd_config' });
    assert.match(unit, /^ExecStart=\/usr\/sbin\/sshd -D -e -f \/etc\/vendetta\/sshd_config$/m);
    assert.match(unit, /^WantedBy=multi-user.target$/m);
    assert.match(INSTALL_UNIT_SCRIPT, /systemctl daemon-reload/);
    assert.equal(
      mountProjectScript("/w/it's"),
      "mkdir -p '/w/it'\\''s' && { mountpoint -q '/w/it'\\''s' || mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 vendetta-project '/w/it'\\''s'; }",
    );
  });
});

describe('QEMU provider: the cloud-init seed', () => {
  const hostKey = generateHostKey('ws');
  const input = { instanceId: 'ws-1', hostname: 'ws', hostKey, controlPublicKey: 'ssh-ed25519 AAAAcontrol' };

  it("gives the guest the workspace host key and only the agent's control key, no password", () => {
    const text = userData(input);
    assert.ok(text.startsWith('#cloud-config\n'));
    const cfg = JSON.parse(text.slice('#cloud-config\n'.length)) as Record<string, unknown>;
    assert.deepEqual(cfg.ssh_keys, { ed25519_private: hostKey.privateKeyPem, ed25519_public: hostKey.publicKey });
    assert.equal(cfg.ssh_pwauth, false);
    assert.deepEqual(cfg.ssh_genkeytypes, []);
    assert.equal(cfg.hostname, 'ws');
    const files = cfg.write_files as Array<{ path: string; content: string; permissions: string }>;
    assert.deepEqual(
      files.find((f) => f.path === CONTROL_KEYS_PATH),
      { path: CONTROL_KEYS_PATH, permissions: '0600', content: 'ssh-ed25519 AAAAcontrol vendetta-agent-control\n' },
    );
    assert.match(controlSshdDropIn(), new RegExp(`^Port ${CONTROL_GUEST_PORT}$`, 'm'));
    assert.match(controlSshdDropIn(), /^PasswordAuthentication no$/m);
    assert.ok(!/passw(or)?d:/i.test(text));
    assert.deepEqual(JSON.parse(metaData(input)), { 'instance-id': 'ws-1', 'local-hostname': 'ws' });
  });

  it('finds the host key the workspace sshd is configured with among its files', () => {
    const spec = {
      name: 'ws',
      env: {},
      forwardAgent: false,
      user: 'root',
      authorizedKeys: ['ssh-ed25519 AAAAuser'],
    } as unknown as WorkspaceSpec;
    const files = sshdFiles(spec, hostKey);
    assert.deepEqual(hostKeyOf(files, SSHD_CONFIG), {
      privateKeyPem: hostKey.privateKeyPem,
      publicKey: hostKey.publicKey,
    });
    assert.throws(
      () =>
        hostKeyOf(
          files.filter((f) => !f.path.endsWith('.pub')),
          SSHD_CONFIG,
        ),
      /name no ed25519 host key/,
    );
  });

  it('is an ISO 9660 volume labelled cidata with the files at their own sectors', () => {
    const iso = seedImage(input);
    assert.equal(iso.length % 2048, 0);
    assert.equal(iso.subarray(16 * 2048 + 1, 16 * 2048 + 6).toString(), 'CD001');
    assert.equal(iso.subarray(16 * 2048 + 40, 16 * 2048 + 46).toString(), 'cidata');
    assert.equal(iso[17 * 2048], 255, 'the descriptor set ends');
    assert.equal(iso.readUInt32LE(16 * 2048 + 80), iso.length / 2048, 'the volume size counts every sector');
    const root = iso.subarray(20 * 2048, 21 * 2048).toString('latin1');
    assert.ok(root.includes('META-DATA;1') && root.includes('USER-DATA;1'));
    assert.equal(iso.subarray(21 * 2048, 21 * 2048 + metaData(input).length).toString(), metaData(input));
    assert.equal(isoName('user-data'), 'USER-DATA;1');
    assert.throws(() => isoName('../x'), /not a name/);
    assert.throws(
      () =>
        buildIso(
          'x',
          Array.from({ length: 60 }, (_, i) => ({ name: `file-number-${i}`, data: '' })),
        ),
      /too many files/,
    );
  });

  it('keeps files for a VM that is off, contents and all', () => {
    const d = mkdtempSync(join(tmpdir(), 'vendetta-qemu-pending-'));
    try {
      const f = join(d, 'pending.json');
      assert.deepEqual(readPending(f), []);
      writePending(f, [
        { path: '/a', type: 'file', mode: 0o600, uid: 1, gid: 2, content: Buffer.from([0, 255]) },
        { path: '/b', type: 'directory', mode: 0o755 },
        { path: '/c', type: 'file', mode: 0o644, content: 'text' },
      ]);
      assert.deepEqual(readPending(f), [
        { path: '/a', type: 'file', mode: 0o600, uid: 1, gid: 2, content: Buffer.from([0, 255]) },
        { path: '/b', type: 'directory', mode: 0o755 },
        { path: '/c', type: 'file', mode: 0o644, content: Buffer.from('text') },
      ]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('QEMU provider: console and accelerator', () => {
  it('cleans terminal escapes, follows new lines and quotes the tail', () => {
    assert.equal(cleanConsoleLine('\x1b[0;32m  OK  \x1b[0m] Started ssh.service\r'), '  OK  ] Started ssh.service');
    const d = mkdtempSync(join(tmpdir(), 'vendetta-qemu-console-'));
    try {
      const f = join(d, 'console.log');
      const follow = new ConsoleFollower(f);
      assert.deepEqual(follow.next(), [], 'no file yet');
      writeFileSync(f, 'one\r\ntw');
      assert.deepEqual(follow.next(), ['one']);
      writeFileSync(f, 'one\r\ntwo\n\nthree\n');
      assert.deepEqual(follow.next(), ['two', 'three']);
      assert.equal(consoleTail(f, 2), 'two\nthree');
      assert.equal(poweredOff('[ 10.1] reboot: Power down'), true);
      assert.equal(poweredOff('[ 10.1] Started'), false);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('QEMU provider: QMP session and the VM process', () => {
  let d: string;
  beforeEach(() => (d = mkdtempSync(join(tmpdir(), 'vendetta-qmp-'))));
  afterEach(() => rmSync(d, { recursive: true, force: true }));

  /** A QMP peer as QEMU behaves: greeting, capabilities, then one reply per command by id. */
  function fakeQemu(path: string, replies: Record<string, unknown>): Server {
    const srv = createServer((c) => {
      c.write('{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}}, "capabilities": []}}\r\n');
      const f = new QmpFramer();
      c.on('data', (chunk) => {
        for (const line of f.push(chunk)) {
          const m = JSON.parse(line) as { execute: string; id: string };
          if (m.execute === 'qmp_capabilities') c.write(`{"return": {}, "id": "${m.id}"}\r\n`);
          else if (m.execute in replies)
            c.write(`{"event": "POWERDOWN"}\r\n${JSON.stringify({ return: replies[m.execute], id: m.id })}\r\n`);
          else c.write(`{"error": {"class": "CommandNotFound", "desc": "no ${m.execute}"}, "id": "${m.id}"}\r\n`);
        }
      });
    });
    srv.listen(path);
    return srv;
  }

  it('negotiates, sends commands by id, reports events and QMP errors', async () => {
    const sock = join(d, 'qmp.sock');
    const srv = fakeQemu(sock, { 'query-status': { status: 'running', running: true } });
    try {
      await new Promise((r) => srv.once('listening', r));
      assert.deepEqual(await qmpStatus(sock), { status: 'running', running: true });
      const s = await QmpSession.open(sock);
      try {
        await s.execute(qmpCalls.queryStatus());
        assert.deepEqual(s.events, ['POWERDOWN']);
        await assert.rejects(
          s.execute(qmpCalls.powerdown()),
          (e: unknown) => e instanceof QmpError && e.errorClass === 'CommandNotFound',
        );
      } finally {
        s.close();
      }
    } finally {
      srv.close();
    }
  });

  it('fails when nothing answers on the socket, and when the peer never greets', async () => {
    await assert.rejects(qmpOnce(join(d, 'none.sock'), qmpCalls.queryStatus()), /ENOENT/);
    const mute = createServer(() => undefined).listen(join(d, 'mute.sock'));
    try {
      await new Promise((r) => mute.once('listening', r));
      await assert.rejects(QmpSession.open(join(d, 'mute.sock'), 300), /did not greet within 300 ms/);
    } finally {
      mute.close();
    }
  });

  it("knows a VM process only by its pid file and its own command line naming the VM's QMP socket", async () => {
    const sock = join(d, 'qmp.sock');
    const pidFile = join(d, 'qemu.pid');
    const child = spawn('sh', ['-c', 'sleep 30', sock], { stdio: 'ignore' });
    try {
      writeFileSync(pidFile, `${child.pid}\n`);
      assert.equal(livePid(pidFile, sock), child.pid);
      assert.equal(livePid(pidFile, join(d, 'other.sock')), undefined, 'a reused pid of another program is not the VM');
      const usage = await vmNodeUsage(pidFile, sock);
      assert.ok(usage && usage.runnableNs.size === 1 && usage.cpuUsec >= 0, JSON.stringify(usage));
      assert.equal(usage.emulated, false, 'no `-accel tcg` on its command line');
      assert.equal(await vmNodeUsage(pidFile, join(d, 'other.sock')), undefined);
      writeFileSync(pidFile, 'garbage');
      assert.equal(livePid(pidFile, sock), undefined);
      assert.equal(livePid(join(d, 'missing.pid'), sock), undefined);
      writeFileSync(pidFile, `${child.pid}\n`);
      // Nothing answers QMP here: ending it falls through to SIGKILL.
      assert.equal(await endVm(pidFile, sock, 0), 'kill');
      assert.equal(livePid(pidFile, sock), undefined);
      assert.equal(await endVm(pidFile, sock, 0), 'not-running');
    } finally {
      child.kill('SIGKILL');
    }
    const tcg = spawn('sh', ['-c', 'sleep 30', 'qemu-system-x86_64', '-accel', 'tcg', '-qmp', sock], {
      stdio: 'ignore',
    });
    try {
      writeFileSync(pidFile, `${tcg.pid}\n`);
      assert.equal((await vmNodeUsage(pidFile, sock))?.emulated, true, 'emulated: `-accel tcg`');
    } finally {
      tcg.kill('SIGKILL');
    }
  });
});
