import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleDirs } from '../../../coordinator/ssh/agentAttach';
import { installHint } from '../../../coordinator/ssh/upload';
import {
  ATTACH_MARKER,
  KILL_PROCESS,
  LIST_BUNDLES,
  WAIT_FOR_EXIT,
  parseProbe,
  probeScript,
  PRUNE_BUNDLES,
  MAKE_PRIVATE_DIR,
  RECEIVE_VERIFIED,
  REMOVE_AGENT_HOME,
} from '../../../coordinator/ssh/remoteScripts';
import { shScript } from '../../../coordinator/ssh/shellQuote';

/** Runs a command line the way sshd would: through the login shell, here bash. */
function runRemote(line: string, env: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/bash', ['-c', line], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

describe('the node setup script (Node.js lookup, bundle check, attach)', () => {
  let dir: string;
  let home: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  function fakeNode(name: string, version: string): string {
    const p = join(bin, name);
    writeFileSync(p, `#!/bin/sh\nif [ "$1" = --version ]; then echo ${version}; exit 0; fi\necho "ran: $*"\n`);
    chmodSync(p, 0o755);
    return p;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-probe-'));
    home = join(dir, 'home dir');
    bin = join(dir, 'bin');
    mkdirSync(home);
    mkdirSync(bin);
    env = { PATH: '/usr/bin:/bin', HOME: home };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing runtime when no candidate exists', () => {
    const r = runRemote(shScript(probeScript([join(bin, 'none')]), ['0.1.0-abc', 'x', 'attach']), env);
    const p = parseProbe(r.stdout.split('\n'));
    assert.equal(p.runtimeMissing, true);
    assert.equal(p.runtime, undefined);
    assert.equal(p.home, home);
  });

  it('skips a Node.js older than 18 and takes the next one', () => {
    const old = fakeNode('node16', 'v16.20.2');
    const good = fakeNode('node20', 'v20.11.1');
    const p = parseProbe(
      runRemote(shScript(probeScript([old, join(bin, 'absent'), good]), ['v-b', 'x', 'probe']), env).stdout.split('\n'),
    );
    assert.deepEqual(p.candidates, [
      { version: 'v16.20.2', path: old },
      { version: 'v20.11.1', path: good },
    ]);
    assert.deepEqual(p.runtime, { version: 'v20.11.1', path: good });
    assert.equal(p.runtimeMissing, false);
  });

  it('names the too-old runtime it found', () => {
    const old = fakeNode('node16', 'v16.20.2');
    const p = parseProbe(runRemote(shScript(probeScript([old]), ['v-b', 'x', 'probe']), env).stdout.split('\n'));
    assert.equal(p.runtimeMissing, true);
    assert.deepEqual(p.candidates, [{ version: 'v16.20.2', path: old }]);
  });

  it('expands the standard candidates (PATH, globs) without error', () => {
    const r = runRemote(shScript(probeScript(), ['v-b', 'x', 'probe']), { ...env, PATH: `${bin}:/usr/bin:/bin` });
    fakeNode('node', 'v22.0.0');
    const r2 = runRemote(shScript(probeScript(), ['v-b', 'x', 'probe']), { ...env, PATH: `${bin}:/usr/bin:/bin` });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parseProbe(r2.stdout.split('\n')).runtime, { version: 'v22.0.0', path: join(bin, 'node') });
  });

  it('makes the bundle directory (0700) for an upload only when asked, and does not attach', () => {
    const node = fakeNode('node', 'v20.1.0');
    const noInstall = parseProbe(
      runRemote(shScript(probeScript([node]), ['0.1.0-abc', 'f'.repeat(64), 'attach', '']), env).stdout.split('\n'),
    );
    assert.equal(noInstall.bundle, 'missing');
    assert.equal(existsSync(join(home, '.vendetta-agent')), false, 'nothing is written unless asked');
    const r = runRemote(shScript(probeScript([node]), ['0.1.0-abc', 'f'.repeat(64), 'attach', 'mkdir']), env);
    const p = parseProbe(r.stdout.split('\n'));
    assert.equal(p.bundle, 'missing');
    assert.equal(p.foundHash, '');
    assert.equal(p.attached, false);
    assert.ok(existsSync(join(home, '.vendetta-agent', '0.1.0-abc')));
    assert.equal(statSync(join(home, '.vendetta-agent')).mode & 0o777, 0o700);
  });

  it('treats a damaged bundle as missing and reports its hash', () => {
    const node = fakeNode('node', 'v20.1.0');
    mkdirSync(join(home, '.vendetta-agent', 'v-b'), { recursive: true });
    writeFileSync(join(home, '.vendetta-agent', 'v-b', 'agent.js'), 'truncated');
    const p = parseProbe(
      runRemote(shScript(probeScript([node]), ['v-b', sha('complete'), 'attach']), env).stdout.split('\n'),
    );
    assert.equal(p.bundle, 'missing');
    assert.equal(p.foundHash, sha('truncated'));
  });

  it('becomes `node agent.js attach` after the marker when the bundle is right', () => {
    const node = fakeNode('node', 'v20.1.0');
    const bundle = join(home, '.vendetta-agent', 'v-b', 'agent.js');
    mkdirSync(join(home, '.vendetta-agent', 'v-b'), { recursive: true });
    writeFileSync(bundle, 'agent code');
    const r = runRemote(shScript(probeScript([node]), ['v-b', sha('agent code'), 'attach']), { ...env, BASH_ENV: '' });
    const lines = r.stdout.split('\n');
    const at = lines.indexOf(ATTACH_MARKER);
    assert.ok(at >= 0, r.stdout);
    assert.equal(lines[at + 1], `ran: ${bundle} attach`);
    assert.equal(parseProbe(lines).bundle, 'ok');
  });

  it('after a fresh install, starts the daemon in its own session beside the attach and tells the attach so', () => {
    const node = join(bin, 'node');
    // Says how it was run: its arguments, whether it leads its own session, and the hint for attach.
    writeFileSync(
      node,
      `#!/bin/sh\nif [ "$1" = --version ]; then echo v20.1.0; exit 0; fi\nsid=$(ps -o sid= -p $$ | tr -d ' '); echo "ran: $* session-leader=$([ "$sid" = $$ ] && echo yes || echo no) starting=\${VENDETTA_AGENT_DAEMON_STARTING:-}"\n`,
    );
    chmodSync(node, 0o755);
    const bundle = join(home, '.vendetta-agent', 'v-b', 'agent.js');
    mkdirSync(join(home, '.vendetta-agent', 'v-b'), { recursive: true });
    writeFileSync(bundle, 'agent code');
    const r = runRemote(shScript(probeScript([node]), ['v-b', sha('agent code'), 'attach', '', 'start']), {
      ...env,
      BASH_ENV: '',
    });
    const lines = r.stdout.split('\n');
    assert.equal(lines[lines.indexOf(ATTACH_MARKER) + 1], `ran: ${bundle} attach session-leader=no starting=1`);
    const out = join(home, '.vendetta-agent', 'logs', 'daemon.out');
    for (let i = 0; i < 50 && !(existsSync(out) && readFileSync(out, 'utf8')); i++) spawnSync('sleep', ['0.1']);
    assert.equal(readFileSync(out, 'utf8'), `ran: ${bundle} daemon session-leader=yes starting=\n`);
    assert.equal(statSync(join(home, '.vendetta-agent', 'logs')).mode & 0o777, 0o700);
  });

  it('takes a runtime given with the version it was just proven to print, without searching or running it again', () => {
    const asked = join(dir, 'asked');
    const proven = join(bin, 'uploaded-node');
    writeFileSync(proven, `#!/bin/sh\necho "$*" >> '${asked}'\n[ "$1" = --version ] && echo v20.1.0\n`);
    chmodSync(proven, 0o755);
    const other = fakeNode('node', 'v22.0.0');
    mkdirSync(join(home, '.vendetta-agent', 'v-b'), { recursive: true });
    writeFileSync(join(home, '.vendetta-agent', 'v-b', 'agent.js'), 'agent code');
    const args = ['v-b', sha('agent code'), 'probe', '', ''];
    const p = parseProbe(
      runRemote(shScript(probeScript([other]), [...args, proven, 'v20.1.0']), env).stdout.split('\n'),
    );
    assert.deepEqual(p.runtime, { path: proven, version: 'v20.1.0' });
    assert.deepEqual(p.candidates, [], 'no search');
    assert.equal(existsSync(asked), false, 'not run again');
    assert.equal(p.bundle, 'ok');
    // Gone by now (deleted on the node): the search runs as without it.
    const gone = parseProbe(
      runRemote(shScript(probeScript([other]), [...args, join(bin, 'absent'), 'v20.1.0']), env).stdout.split('\n'),
    );
    assert.deepEqual(gone.runtime, { path: other, version: 'v22.0.0' });
  });

  it('after a fresh install in direct mode, starts the daemon, waits for its ready and says where it listens, with no attach', () => {
    const node = join(bin, 'node');
    // The daemon says ready on the fd it is given once it "listens"; an attach says it ran.
    const ready = join(dir, 'ready-fd');
    writeFileSync(
      node,
      `#!/bin/sh\nif [ "$1" = --version ]; then echo v20.1.0; exit 0; fi\nif [ "$2" = daemon ]; then echo "\${VENDETTA_AGENT_READY_FD:-none}" > '${ready}'; [ -e '${join(dir, 'fail')}' ] && exit 1; sleep 0.2; echo ready >&3; exit 0; fi\necho "ran: $2 starting=\${VENDETTA_AGENT_DAEMON_STARTING:-}"\n`,
    );
    chmodSync(node, 0o755);
    mkdirSync(join(home, '.vendetta-agent', 'v-b'), { recursive: true });
    writeFileSync(join(home, '.vendetta-agent', 'v-b', 'agent.js'), 'agent code');
    const args = ['v-b', sha('agent code'), 'attach', '', 'start', node, 'v20.1.0', 'direct'];
    const r = runRemote(shScript(probeScript([]), args), { ...env, BASH_ENV: '' });
    const p = parseProbe(r.stdout.split('\n'));
    assert.equal(p.daemonReady, join(home, '.vendetta-agent', 'agent.sock'), r.stdout + r.stderr);
    assert.equal(p.attached, false);
    assert.doesNotMatch(r.stdout, /ran:/, 'no attach ran');
    assert.equal(readFileSync(ready, 'utf8').trim(), '3');
    // A daemon that exits without saying ready (another one holds the lock): attach as before,
    // and no second daemon is started beside it.
    writeFileSync(join(dir, 'fail'), '');
    const again = runRemote(shScript(probeScript([]), args), { ...env, BASH_ENV: '' });
    const lines = again.stdout.split('\n');
    assert.equal(parseProbe(lines).daemonReady, undefined);
    assert.equal(lines[lines.indexOf(ATTACH_MARKER) + 1], 'ran: attach starting=');
  });

  it('hashes with Node.js when sha256sum is absent', () => {
    const tools = join(dir, 'tools');
    mkdirSync(tools);
    for (const t of ['sh', 'mkdir', 'chmod']) symlinkSync(`/bin/${t}`, join(tools, t));
    mkdirSync(join(home, '.vendetta-agent', 'v-b'), { recursive: true });
    writeFileSync(join(home, '.vendetta-agent', 'v-b', 'agent.js'), 'agent code');
    const r = runRemote(shScript(probeScript([process.execPath]), ['v-b', sha('agent code'), 'probe']), {
      ...env,
      PATH: tools,
    });
    assert.equal(parseProbe(r.stdout.split('\n')).bundle, 'ok', r.stdout + r.stderr);
  });

  it('ignores what a shell rc file prints', () => {
    const p = parseProbe([
      'Welcome to the node!',
      'vendetta-probe: home /home/x',
      'random vendetta-probe: node v1 /x',
      'vendetta-probe: node v20.1.0 /opt/my node/bin/node',
    ]);
    assert.equal(p.home, '/home/x');
    assert.deepEqual(p.runtime, { version: 'v20.1.0', path: '/opt/my node/bin/node' });
  });

  /** RECEIVE_VERIFIED run as sshd would, `bytes` on its stdin (for sshds without SFTP). */
  function receive(bytes: Buffer | string, args: string[], environment = env, from = 'stdin') {
    const r = spawnSync('/bin/bash', ['-c', shScript(RECEIVE_VERIFIED, [...args, from])], {
      input: bytes,
      env: environment,
      encoding: 'utf8',
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('receives a file byte for byte into a new private folder, hashed as it arrives, and renames it into place', () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff));
    const target = join(home, '.vendetta-agent', 'b1');
    const r = receive(bytes, [
      target,
      '.agent.js.abc.tmp',
      'agent.js',
      sha(bytes),
      '',
      '',
      '',
      join(home, '.vendetta-agent'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /vendetta-probe: installed/);
    assert.equal(sha(readFileSync(join(target, 'agent.js'))), sha(bytes));
    assert.equal(statSync(join(target, 'agent.js')).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, '.vendetta-agent')).mode & 0o777, 0o700);
    assert.equal(existsSync(join(target, '.agent.js.abc.tmp')), false);
  });

  it('installs a file that arrived over SFTP after checking it, and deletes a damaged one', () => {
    const made = runRemote(
      shScript(MAKE_PRIVATE_DIR, [join(home, '.vendetta-agent', 'b2'), join(home, '.vendetta-agent')]),
      env,
    );
    assert.equal(made.code, 0, made.stderr);
    assert.equal(statSync(join(home, '.vendetta-agent', 'b2')).mode & 0o777, 0o700);
    const d = join(home, '.vendetta-agent', 'b2');
    writeFileSync(join(d, '.a.tmp'), 'sent');
    let r = receive('', [d, '.a.tmp', 'agent.js', sha('sent'), '', '', '', ''], env, 'file');
    assert.match(r.stdout, /installed/, r.stderr);
    assert.equal(readFileSync(join(d, 'agent.js'), 'utf8'), 'sent');
    writeFileSync(join(d, '.b.tmp'), 'bent');
    r = receive('', [d, '.b.tmp', 'agent.js', sha('sent'), '', '', '', ''], env, 'file');
    assert.match(r.stdout, new RegExp(`checksum ${sha('bent')}`));
    assert.equal(existsSync(join(d, '.b.tmp')), false);
    assert.equal(readFileSync(join(d, 'agent.js'), 'utf8'), 'sent');
  });

  it('deletes a copy whose checksum differs and leaves the installed file untouched', () => {
    writeFileSync(join(dir, 'agent.js'), 'good');
    const r = receive('bad', [dir, '.agent.js.x.tmp', 'agent.js', sha('good'), '', '', '', '']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`checksum ${sha('bad')}`));
    assert.equal(existsSync(join(dir, '.agent.js.x.tmp')), false, 'a damaged upload is deleted');
    assert.equal(readFileSync(join(dir, 'agent.js'), 'utf8'), 'good');
  });

  it('fails with the reason the node gives when it cannot write the file', () => {
    // Something in the way of the temp file (root writes through permissions, not through this).
    mkdirSync(join(dir, '.a.tmp'));
    const big = 'x'.repeat(300_000);
    const r = receive(big, [dir, '.a.tmp', 'a', sha(big), '', '', '', '']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tee: .*\.a\.tmp: Is a directory/);
    assert.doesNotMatch(r.stdout, /installed|checksum/);
    assert.equal(existsSync(join(dir, 'a')), false);
  });

  it('hashes with Node.js after the transfer when the node has no sha256sum', () => {
    // A PATH with the tools the script needs but no sha256sum.
    const tools = join(dir, 'tools');
    mkdirSync(tools);
    for (const t of ['sh', 'mkdir', 'chmod', 'cat', 'mv', 'rm', 'head', 'rmdir'])
      symlinkSync(spawnSync('/bin/sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim(), join(tools, t));
    const r = receive('agent code', [dir, '.a.tmp', 'agent.js', sha('agent code'), process.execPath, '', '', ''], {
      ...env,
      PATH: tools,
    });
    assert.match(r.stdout, /installed/, r.stderr);
    assert.equal(readFileSync(join(dir, 'agent.js'), 'utf8'), 'agent code');
    const none = receive('agent code', [dir, '.b.tmp', 'b.js', sha('agent code'), '', '', '', ''], {
      ...env,
      PATH: tools,
    });
    assert.match(none.stdout, /checksum $/m, 'no way to hash: an empty checksum, and nothing installed');
    assert.equal(existsSync(join(dir, 'b.js')), false);
  });

  it('hashes with sha256sum where the node has no OpenSSL, as it arrives and after SFTP', () => {
    const tools = join(dir, 'tools');
    mkdirSync(tools);
    for (const t of ['sh', 'mkdir', 'chmod', 'cat', 'mv', 'rm', 'tee', 'sha256sum'])
      symlinkSync(spawnSync('/bin/sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim(), join(tools, t));
    const noOpenssl = { ...env, PATH: tools };
    let r = receive('agent code', [dir, '.a.tmp', 'agent.js', sha('agent code'), '', '', '', ''], noOpenssl);
    assert.match(r.stdout, /installed/, r.stderr);
    writeFileSync(join(dir, '.b.tmp'), 'other code');
    r = receive('', [dir, '.b.tmp', 'b.js', sha('other code'), '', '', '', ''], noOpenssl, 'file');
    assert.match(r.stdout, /installed/, r.stderr);
    assert.equal(readFileSync(join(dir, 'b.js'), 'utf8'), 'other code');
  });

  it('proves a runtime answers --version before putting it in place, and deletes one that does not', () => {
    const runs = '#!/bin/sh\necho v20.1.0\n';
    const bin2 = join(dir, 'rt', 'n1', 'bin');
    let r = receive(runs, [bin2, '.node.t', 'node', sha(runs), '', 'exec', 'v20.1.0', '']);
    assert.match(r.stdout, /installed/, r.stderr);
    assert.equal(statSync(join(bin2, 'node')).mode & 0o777, 0o700);
    const broken = '#!/bin/sh\necho "cannot execute: required file not found" >&2; exit 127\n';
    const bin3 = join(dir, 'rt', 'n2', 'bin');
    r = receive(broken, [bin3, '.node.t', 'node', sha(broken), '', 'exec', 'v20.1.0', '']);
    assert.match(r.stdout, /does-not-run/);
    assert.match(r.stderr, /required file not found/);
    assert.equal(existsSync(join(dir, 'rt', 'n2')), false, 'its folder is gone too');
  });

  it('names the cause of a failed install from what the node said, and nothing when it said nothing known', () => {
    assert.match(
      installHint('n1', '/h/.vendetta-agent/x', 'cat: write error: No space left on device') ?? '',
      /is full \(or over quota\)/,
    );
    assert.match(installHint('n1', '/h/.vendetta-agent/x', 'Disk quota exceeded') ?? '', /over quota/);
    assert.match(
      installHint('n1', '/h/.vendetta-agent/x', 'sh: cannot create x: Read-only file system') ?? '',
      /read-only file system/,
    );
    assert.match(
      installHint('n1', '/h/.vendetta-agent/x', 'sh: 1: cannot create x: Permission denied') ?? '',
      /cannot write \/h\/\.vendetta-agent\/x on n1/,
    );
    assert.equal(installHint('n1', '/h/x', 'Connection reset'), undefined);
  });

  it('lists, prunes and removes bundle directories', () => {
    for (const d of ['0.1.0-aaa', '0.2.0-bbb', 'has space']) {
      mkdirSync(join(home, '.vendetta-agent', d), { recursive: true });
      writeFileSync(join(home, '.vendetta-agent', d, 'agent.js'), d);
    }
    mkdirSync(join(home, '.vendetta-agent', 'logs'));
    const listed = runRemote(shScript(LIST_BUNDLES), env).stdout;
    assert.match(listed, /home-exists/);
    assert.deepEqual(bundleDirs(listed).sort(), ['0.1.0-aaa', '0.2.0-bbb', 'has space']);
    runRemote(shScript(PRUNE_BUNDLES, ['0.2.0-bbb', '0.1.0-aaa', 'has space', '0.2.0-bbb']), env);
    assert.deepEqual(bundleDirs(runRemote(shScript(LIST_BUNDLES), env).stdout), ['0.2.0-bbb']);
    assert.ok(existsSync(join(home, '.vendetta-agent', 'logs')), 'only named bundle directories go');
    assert.match(runRemote(shScript(REMOVE_AGENT_HOME), env).stdout, /removed/);
    assert.equal(existsSync(join(home, '.vendetta-agent')), false);
    assert.doesNotMatch(runRemote(shScript(LIST_BUNDLES), env).stdout, /home-exists/);
  });

  it('waits for a process to exit, counting a zombie as exited', () => {
    // The child exits at once, but Node reaps it only when the event loop runs: until then it is a zombie.
    const child = spawn('true');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    assert.match(readFileSync(`/proc/${child.pid}/stat`, 'utf8'), /\) Z /);
    const t0 = Date.now();
    assert.equal(runRemote(shScript(WAIT_FOR_EXIT, [String(child.pid)]), env).code, 0);
    assert.ok(Date.now() - t0 < 1_000, `took ${Date.now() - t0} ms`);
  });

  it('stops a process by pid', async () => {
    const child = spawn('sleep', ['60']);
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    assert.equal(runRemote(shScript(KILL_PROCESS, [String(child.pid)]), env).code, 0);
    assert.equal(await exited, 'SIGTERM');
  });
});
