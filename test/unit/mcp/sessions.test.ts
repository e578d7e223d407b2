import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server as SshServer, utils, type ServerChannel } from 'ssh2';
import type { CoordinatorClient } from '../../../coordinator/cli/client';
import { homePaths } from '../../../coordinator/home';
import { CoordinatorLink } from '../../../coordinator/mcp/coordinatorLink';
import { execTool } from '../../../coordinator/mcp/tools/execTool';
import { fileTools } from '../../../coordinator/mcp/tools/fileTools';
import type { ToolContext } from '../../../coordinator/mcp/tools/toolSpec';
import { WorkspaceSessions } from '../../../coordinator/mcp/workspaceSessions';
import { generateEd25519Pair } from '../../../coordinator/ssh/identity';
import { TUNNEL_OK, type TunnelOpenResult } from '../../../coordinator/protocol';

/**
 * A stand-in for the coordinator's tunnel and a workspace's sshd, in this process: a unix socket
 * that answers the tunnel preamble, behind it an ssh2 server that runs each exec request with the
 * real sh here. Everything of the MCP side (tunnel attach, pinned host key, key login, channels,
 * caps, deadlines, the file scripts) runs for real.
 */
describe('vendetta mcp keeps one SSH session per workspace and runs tools over it', function () {
  this.timeout(20_000);
  let dir: string;
  let folder: string;
  let tunnels: NetServer;
  let ssh: SshServer;
  let logins = 0;
  let tunnelOpens = 0;
  const sockets = new Set<Socket>();
  let sessions: WorkspaceSessions;
  let link: CoordinatorLink;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-mcp-sessions-'));
    folder = join(dir, 'workspaces', 'w');
    mkdirSync(join(folder, 'src'), { recursive: true });
    writeFileSync(join(folder, 'src', 'a.txt'), 'hello\n');
    writeFileSync(join(dir, 'secret'), 'no');
    symlinkSync(join(dir, 'secret'), join(folder, 'leak'));
    const home = join(dir, 'home');
    mkdirSync(home);
    const hostKey = generateEd25519Pair('host');
    const userKey = generateEd25519Pair('user');
    writeFileSync(join(home, 'id'), userKey.private, { mode: 0o600 });
    const hostPub = hostKey.public.trim().split(/\s+/);
    writeFileSync(join(home, 'known_hosts'), `w.n.vendetta ${hostPub[0]} ${hostPub[1]}\n`);
    const allowed = utils.parseKey(userKey.public);
    if (allowed instanceof Error) throw allowed;

    ssh = new SshServer({ hostKeys: [hostKey.private] }, (client) => {
      client.on('authentication', (ctx) => {
        if (
          ctx.method === 'publickey' &&
          ctx.key.algo === allowed.type &&
          ctx.key.data.equals(allowed.getPublicSSH())
        ) {
          if (ctx.signature) logins++; // the first try only asks whether the key would do
          ctx.accept();
        } else ctx.reject(['publickey']);
      });
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const ch: ServerChannel = acceptExec();
          const child = spawn('sh', ['-c', info.command], { cwd: dir });
          child.stdout.pipe(ch, { end: false });
          child.stderr.pipe(ch.stderr, { end: false });
          ch.pipe(child.stdin);
          child.on('close', (code) => {
            ch.exit(code ?? 255);
            ch.end();
          });
        });
      });
      client.on('error', () => undefined);
    });

    const info: TunnelOpenResult = {
      token: 't',
      expiresInMs: 1000,
      alias: 'w.n.vendetta',
      name: 'w',
      node: 'n',
      user: 'dev',
      identityFile: join(home, 'id'),
      knownHostsFile: join(home, 'known_hosts'),
      workspaceFolder: folder,
    };
    const paths = homePaths(home);
    tunnels = createServer((sock) => {
      sockets.add(sock);
      sock.once('data', () => {
        sock.write(`${TUNNEL_OK}\n`);
        ssh.injectSocket(sock);
      });
    });
    await new Promise<void>((r) => tunnels.listen(paths.socket, r));
    const fake = {
      paths,
      async request(type: { method: string }, params: { name: string }) {
        if (type.method === 'tunnels/open') {
          tunnelOpens++;
          if (params.name !== 'w') throw new Error(`no workspace ${params.name}`);
          return info;
        }
        return { logged: true };
      },
      onNotification: () => undefined,
      lostConnection: new Promise<never>(() => undefined),
      dispose: () => undefined,
    };
    link = new CoordinatorLink(async () => fake as unknown as CoordinatorClient);
    sessions = new WorkspaceSessions(link);
  });

  after(async () => {
    sessions?.dispose();
    for (const s of sockets) s.destroy();
    await new Promise((r) => tunnels?.close(r));
    ssh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ctx = (): ToolContext => ({ link, sessions, progress: () => undefined, signal: new AbortController().signal });
  const tool = (name: string) => [execTool, ...fileTools].find((t) => t.name === name)!;

  it('logs in once and reuses the session for every later call', async () => {
    const a = await tool('exec').run({ workspace: 'w', argv: ['sh', '-c', 'pwd; echo err >&2; exit 3'] }, ctx());
    assert.equal(a.exitCode, 3);
    assert.deepEqual(
      [(a.structured as { stdout: string }).stdout, (a.structured as { stderr: string }).stderr],
      [`${folder}\n`, 'err\n'],
    );
    assert.match(a.text, /^exit code 3 \(/);
    await tool('exec').run({ workspace: 'w', command: 'true' }, ctx());
    assert.deepEqual([logins, tunnelOpens], [1, 1]);
    await assert.rejects(sessions.get({ name: 'ghost' }), /no workspace ghost/);
    assert.equal(tunnelOpens, 2);
  });

  it('opens a new session when the kept one went stale before a command could start', async () => {
    const stale = await sessions.get({ name: 'w' });
    const before = logins;
    (stale.ssh as unknown as { exec: (c: string, cb: (err: Error) => void) => void }).exec = (_c, cb) =>
      cb(new Error('(SSH) Channel open failure: open failed'));
    const r = await sessions.run({ name: 'w' }, 'echo again', { maxBytes: 100, timeoutMs: 5000 });
    assert.deepEqual([r.exitCode, r.stdout.text()], [0, 'again\n']);
    assert.equal(logins, before + 1, 'logged in again');
    assert.notEqual(await sessions.get({ name: 'w' }), stale, 'the new session is kept');
  });

  it('ends a command that outlives its deadline and stops waiting for it', async () => {
    const session = await sessions.get({ name: 'w' });
    const r = await sessions.run({ name: 'w' }, 'sleep 5', { maxBytes: 100, timeoutMs: 100, backstopMs: 100 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.ok(r.durationMs < 2000, `${r.durationMs} ms`);
    assert.equal(session.info.name, 'w');
  });

  it('reads, writes and lists inside the folder and refuses a link out of it', async () => {
    const c = ctx();
    const w = await tool('write_file').run({ workspace: 'w', path: 'new/b.txt', content: 'data' }, c);
    assert.equal(w.text, 'wrote 4 bytes to new/b.txt');
    assert.equal(readFileSync(join(folder, 'new', 'b.txt'), 'utf8'), 'data');
    await tool('write_file').run(
      { workspace: 'w', path: 'bin', content: Buffer.from([0, 200]).toString('base64'), encoding: 'base64' },
      c,
    );
    assert.equal((await tool('read_file').run({ workspace: 'w', path: 'src/a.txt' }, c)).text, 'hello\n');
    assert.equal((await tool('read_file').run({ workspace: 'w', path: 'bin', encoding: 'base64' }, c)).text, 'AMg=');
    await assert.rejects(tool('read_file').run({ workspace: 'w', path: 'bin' }, c), /binary file \(2 bytes\)/);
    assert.match(
      (await tool('read_file').run({ workspace: 'w', path: 'src/a.txt', maxBytes: 2 }, c)).text,
      /^he\n\[… cut: the file has 6 bytes/,
    );
    await assert.rejects(
      tool('read_file').run({ workspace: 'w', path: 'leak' }, c),
      /outside the workspace folder.*symlink to/,
    );
    await assert.rejects(tool('read_file').run({ workspace: 'w', path: 'src' }, c), /is not a file/);
    await assert.rejects(
      tool('write_file').run({ workspace: 'w', path: 'leak', content: 'x' }, c),
      /outside the workspace folder/,
    );
    assert.equal(readFileSync(join(dir, 'secret'), 'utf8'), 'no');
    const list = await tool('list_files').run({ workspace: 'w', depth: 2 }, c);
    assert.match(list.text, /^- +6 src\/a\.txt$/m);
    assert.match(list.text, /^l +\d+ leak -> /m);
    const capped = await tool('list_files').run({ workspace: 'w', depth: 2, maxEntries: 1 }, c);
    assert.match(capped.text, /more than 1 entries/);
    await assert.rejects(tool('list_files').run({ workspace: 'w', path: 'src/a.txt' }, c), /is not a folder/);
  });
});
