import Ajv from 'ajv';
import assert from 'node:assert/strict';
import { chownSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CallToolResultSchema, type CallToolResult, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startDockerd, type Dockerd } from '../infra/docker';
import { ensureTestImage } from '../infra/image';
import { createTestNodes, type TestNode, type TestNodes } from '../infra/nodes';
import { requireCommands, requireRoot } from '../infra/sys';
import { createCliHome, REPO, type CliHome } from './coordinatorHarness';
import { DOTFILES_RAN, dotfilesRepo } from './dotfilesRepo';
import { startMcp, type McpSession } from './mcpHarness';

const HELLO = join(REPO, 'examples', 'hello');
const README = readFileSync(join(HELLO, 'README.md'), 'utf8');
const FOLDER = '/workspaces/hello';

function text(r: unknown): string {
  const c = (r as CallToolResult).content[0];
  assert.equal(c?.type, 'text');
  return (c as { text: string }).text;
}

async function call(s: McpSession, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await s.client.callTool({ name, arguments: args }, CallToolResultSchema, {
    timeout: 300_000,
  })) as CallToolResult;
}

async function ok(s: McpSession, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const r = await call(s, name, args);
  assert.notEqual(r.isError, true, `${name} failed: ${text(r)}`);
  return r;
}

async function refused(s: McpSession, name: string, args: Record<string, unknown>, re: RegExp): Promise<void> {
  const r = await call(s, name, args);
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should fail, got: ${text(r)}`);
  assert.match(text(r), re);
}

describe('vendetta mcp: a coding agent drives a workspace on an SSH node through the coordinator', function () {
  let net: TestNodes;
  let node: TestNode;
  let dockerd: Dockerd;
  let h: CliHome;
  let runDir: string;
  let project: string;
  let s: McpSession;

  before(async function () {
    requireRoot(this, 'the MCP suite');
    requireCommands(this, 'the MCP suite', ['sshd', 'ssh', 'dockerd', 'ip', 'nsenter']);
    this.timeout(600_000);
    net = await createTestNodes({ count: 1, label: 'mcp' });
    node = net.nodes[0]!;
    h = createCliHome();
    runDir = `/run/user/${node.uid}`;
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    chownSync(runDir, node.uid, node.uid);
    dockerd = await startDockerd({
      dir: join(h.dir, 'dockerd'),
      netns: node.netns,
      socketPath: join(runDir, 'docker.sock'),
      group: node.user,
      bip: '10.79.213.1/24',
    });
    await ensureTestImage(dockerd.socket);
    const add = await h.run([
      'node',
      'add',
      node.name,
      '--host',
      node.host,
      '--user',
      node.user,
      '--identity',
      node.identity,
      '--accept-new-host-key',
    ]);
    assert.equal(add.code, 0, add.stderr);
    project = join(h.dir, 'hello');
    cpSync(HELLO, project, { recursive: true });
    s = await startMcp(h);
  });

  after(async function () {
    this.timeout(120_000);
    if (s && process.env.VENDETTA_MCP_TRANSCRIPT)
      writeFileSync(process.env.VENDETTA_MCP_TRANSCRIPT, s.transcript.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await s?.close();
    await h?.cleanup();
    await dockerd?.stop();
    await net?.destroy();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('lists its tools, each with a one-line description and an input schema that compiles', async () => {
    const { tools } = await s.client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, [
      'exec',
      'list_files',
      'list_nodes',
      'list_ports',
      'list_workspaces',
      'read_file',
      'service_logs',
      'workspace_start',
      'workspace_status',
      'workspace_up',
      'write_file',
    ]);
    const ajv = new Ajv({ strict: false });
    for (const t of tools) {
      assert.ok(t.description && !t.description.includes('\n') && t.description.length < 250, `${t.name}: one line`);
      assert.equal(t.inputSchema.type, 'object');
      assert.doesNotThrow(() => ajv.compile(t.inputSchema), `${t.name}'s schema compiles`);
      assert.equal(t.annotations?.destructiveHint, false, `${t.name} is not destructive`);
    }
    const exec = ajv.compile(tools.find((t) => t.name === 'exec')!.inputSchema);
    assert.equal(exec({ workspace: 'hello', argv: ['ls'] }), true);
    assert.equal(exec({ workspace: 'Bad Name', argv: ['ls'] }), false);
    assert.equal(tools.find((t) => t.name === 'read_file')!.annotations?.readOnlyHint, true);
  });

  it('a long workspace_up streams progress notifications, then the workspace runs with the dotfiles it was given', async function () {
    this.timeout(600_000);
    // In the node user's own folder: its agent clones them (git refuses a repository of another owner).
    const dotfiles = dotfilesRepo(runDir);
    execFileSync('chown', ['-R', `${node.uid}:${node.uid}`, join(runDir, 'dotfiles.git')]);
    const seen: Progress[] = [];
    const r = (await s.client.callTool(
      { name: 'workspace_up', arguments: { path: project, node: node.name, dotfiles: { repository: dotfiles } } },
      CallToolResultSchema,
      {
        timeout: 600_000,
        onprogress: (p) => seen.push(p),
      },
    )) as CallToolResult;
    assert.notEqual(r.isError, true, text(r));
    const up = r.structuredContent as { name: string; node: string; state: string; warnings: unknown[] };
    assert.deepEqual([up.name, up.node, up.state, up.warnings], ['hello', node.name, 'running', []]);
    const home = await ok(s, 'exec', {
      workspace: 'hello',
      command: `cd && cat ${DOTFILES_RAN} .vendetta/dotfiles-installed`,
    });
    assert.equal((home.structuredContent as { stdout: string }).stdout, `/root/dotfiles root\n${dotfiles}\n`);
    assert.ok(seen.length >= 4, `progress notifications: ${JSON.stringify(seen)}`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.progress > seen[i - 1]!.progress, 'progress grows');
    assert.ok(
      seen.some((p) => /\[\d\/\d\] /.test(p.message ?? '')),
      JSON.stringify(seen),
    );
    assert.ok(
      s.transcript.some(
        (l) => l.from === 'server' && 'method' in l.message && l.message.method === 'notifications/progress',
      ),
      'on the wire as notifications/progress',
    );
  });

  it('exec returns stdout, stderr and the exit code, in the project folder, with cwd and env', async () => {
    const r = await ok(s, 'exec', { workspace: 'hello', argv: ['sh', '-c', 'cat README.md; echo oops >&2; exit 42'] });
    const out = r.structuredContent as { exitCode: number; stdout: string; stderr: string; truncated: boolean };
    assert.equal(out.exitCode, 42);
    assert.equal(out.stdout, README);
    assert.equal(out.stderr, 'oops\n');
    assert.match(text(r), /^exit code 42 /);
    const line = await ok(s, 'exec', {
      workspace: 'hello',
      command: 'pwd; echo "$GREETING"',
      cwd: 'services',
      env: { GREETING: "it's $HOME" },
    });
    assert.equal((line.structuredContent as { stdout: string }).stdout, `${FOLDER}/services\nit's $HOME\n`);
    const ls = await ok(s, 'exec', { workspace: 'hello', node: node.name, argv: ['ls', 'a file that is not there'] });
    assert.notEqual((ls.structuredContent as { exitCode: number }).exitCode, 0);
  });

  it('exec caps a flood of output and says how much it cut; a command past its timeout is killed', async () => {
    const big = await ok(s, 'exec', { workspace: 'hello', command: 'seq 1 200000', maxOutputBytes: 4096 });
    const out = big.structuredContent as { stdout: string; truncated: boolean };
    assert.equal(out.truncated, true);
    assert.match(out.stdout, /^1\n2\n3\n/);
    assert.match(out.stdout, /\n200000\n$/);
    assert.match(out.stdout, /\[… \d+ bytes cut: the output had 1288895 bytes, the cap is 4096 …\]/);
    const t0 = Date.now();
    const slow = await ok(s, 'exec', { workspace: 'hello', argv: ['sleep', '30'], timeoutSeconds: 1 });
    assert.equal((slow.structuredContent as { timedOut: boolean }).timedOut, true);
    assert.ok(Date.now() - t0 < 10_000, 'killed, not waited for');
    assert.match(text(slow), /killed after the 1 s timeout/);
  });

  it('write_file then read_file round-trips text and binary (base64), and refuses binary as text', async () => {
    const body = 'héllo from the agent\nline 2\n';
    await ok(s, 'write_file', { workspace: 'hello', path: 'notes/new/agent.txt', content: body });
    assert.equal(text(await ok(s, 'read_file', { workspace: 'hello', path: 'notes/new/agent.txt' })), body);
    assert.equal(
      text(await ok(s, 'read_file', { workspace: 'hello', path: `${FOLDER}/notes/new/agent.txt` })),
      body,
      'an absolute path inside the folder',
    );
    const seen = await ok(s, 'exec', { workspace: 'hello', argv: ['cat', 'notes/new/agent.txt'] });
    assert.equal((seen.structuredContent as { stdout: string }).stdout, body, 'really in the workspace');
    const bin = Buffer.from([0, 1, 2, 255, 254, 10, 0]);
    await ok(s, 'write_file', {
      workspace: 'hello',
      path: 'blob.bin',
      content: bin.toString('base64'),
      encoding: 'base64',
    });
    await refused(
      s,
      'read_file',
      { workspace: 'hello', path: 'blob.bin' },
      /is a binary file \(7 bytes\)[\s\S]*hint: .*base64/,
    );
    const b64 = await ok(s, 'read_file', { workspace: 'hello', path: 'blob.bin', encoding: 'base64' });
    assert.deepEqual(Buffer.from((b64.structuredContent as { content: string }).content, 'base64'), bin);
    const part = await ok(s, 'read_file', { workspace: 'hello', path: 'README.md', maxBytes: 10 });
    assert.equal((part.structuredContent as { truncated: boolean }).truncated, true);
    assert.match(text(part), /cut: the file has \d+ bytes, this is the first 10/);
    const listing = text(await ok(s, 'list_files', { workspace: 'hello', depth: 3 }));
    assert.match(listing, /^d +\d+ notes\/new$/m);
    assert.match(listing, /^- +29 notes\/new\/agent\.txt$/m);
    assert.match(listing, /^- +\d+ README\.md$/m);
  });

  it('refuses paths outside the folder: ../x, an absolute path elsewhere, and symlinks pointing out', async () => {
    await ok(s, 'exec', {
      workspace: 'hello',
      command:
        'ln -sfn /etc out-dir && ln -sfn /etc/hostname out-file && ln -sfn /nonexistent/dir dangling && ln -sfn services in-dir',
    });
    const outside = /outside the workspace folder \/workspaces\/hello/;
    await refused(s, 'read_file', { workspace: 'hello', path: '../x' }, outside);
    await refused(s, 'read_file', { workspace: 'hello', path: 'services/../../hello2/x' }, outside);
    await refused(s, 'read_file', { workspace: 'hello', path: '/etc/hostname' }, outside);
    await refused(s, 'write_file', { workspace: 'hello', path: '/tmp/planted', content: 'x' }, outside);
    await refused(s, 'list_files', { workspace: 'hello', path: '..' }, outside);
    await refused(s, 'exec', { workspace: 'hello', argv: ['pwd'], cwd: '../..' }, outside);
    await refused(s, 'read_file', { workspace: 'hello', path: 'out-file' }, /symlink to \/etc\/hostname/);
    await refused(s, 'read_file', { workspace: 'hello', path: 'out-dir/passwd' }, /symlink to \/etc\/passwd/);
    await refused(s, 'list_files', { workspace: 'hello', path: 'out-dir' }, outside);
    await refused(s, 'write_file', { workspace: 'hello', path: 'out-dir/planted', content: 'x' }, outside);
    await refused(s, 'write_file', { workspace: 'hello', path: 'out-file', content: 'x' }, outside);
    await refused(s, 'write_file', { workspace: 'hello', path: 'dangling/planted', content: 'x' }, outside);
    const after = await ok(s, 'exec', {
      workspace: 'hello',
      command: 'ls /etc/planted /nonexistent /tmp/planted 2>&1; cat /etc/hostname | wc -c',
    });
    assert.match(
      (after.structuredContent as { stdout: string }).stdout,
      /No such file[\s\S]*No such file[\s\S]*No such file/,
      'nothing was written outside',
    );
    // A link that stays inside the folder is fine.
    assert.match(text(await ok(s, 'list_files', { workspace: 'hello', path: 'in-dir' })), /api\.mjs/);
    await refused(s, 'read_file', { workspace: 'hello', path: 'no-such-file' }, /does not exist/);
  });

  it('service_logs, list_ports, workspace_status and the lists answer from the coordinator', async () => {
    const st = (await ok(s, 'workspace_status', { workspace: 'hello' })).structuredContent as {
      state: string;
      services?: Array<{ name: string }>;
    };
    assert.equal(st.state, 'running');
    assert.deepEqual(st.services?.map((x) => x.name).sort(), ['api', 'db', 'web']);
    const ports = (await ok(s, 'list_ports', { workspace: 'hello' })).structuredContent as {
      ports: Array<{ port: number }>;
    };
    assert.deepEqual(ports.ports.map((p) => p.port).sort(), [3000, 7070, 8080]);
    const logs = text(await ok(s, 'service_logs', { workspace: 'hello', service: 'db', tail: 5 }));
    assert.match(logs, / db: /);
    const nodes = (await ok(s, 'list_nodes', {})).structuredContent as {
      nodes: Array<{ name: string; status: string; providers: string[] }>;
    };
    const n = nodes.nodes.find((x) => x.name === node.name)!;
    assert.equal(n.status, 'online');
    assert.ok(
      n.providers.some((p) => p.startsWith('docker')),
      JSON.stringify(n),
    );
    const ws = (await ok(s, 'list_workspaces', {})).structuredContent as { workspaces: Array<{ name: string }> };
    assert.deepEqual(
      ws.workspaces.map((w) => w.name),
      ['hello'],
    );
  });

  it('a malformed call gets an MCP error and the server keeps serving', async () => {
    await assert.rejects(
      s.client.request({ method: 'tools/call', params: { arguments: {} } } as never, CallToolResultSchema),
      (e: unknown) => e instanceof McpError && /params[\s\S]*name/.test(e.message),
    );
    await refused(s, 'exec', { workspace: 5, argv: 'ls' }, /MCP error -32602: Input validation error/);
    await refused(s, 'exec', { workspace: 'hello' }, /exactly one of argv .* and command/);
    await refused(
      s,
      'exec',
      { workspace: 'hello', argv: ['true'], env: { 'A B': 'x' } },
      /Invalid environment variable name/,
    );
    await refused(s, 'no_such_tool', {}, /Tool no_such_tool not found/);
    await refused(s, 'exec', { workspace: 'ghost', argv: ['true'] }, /There is no workspace named ghost/);
    assert.equal((await s.client.listTools()).tools.length, 11, 'still answering');
  });

  it('--read-only offers only tools that change nothing and refuses the others', async () => {
    const ro = await startMcp(h, ['--read-only']);
    try {
      const names = (await ro.client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(names, [
        'list_files',
        'list_nodes',
        'list_ports',
        'list_workspaces',
        'read_file',
        'service_logs',
        'workspace_status',
      ]);
      for (const t of ['exec', 'write_file', 'workspace_up', 'workspace_start', 'workspace_stop', 'workspace_rm']) {
        await refused(
          ro,
          t,
          { workspace: 'hello', argv: ['touch', 'x'], path: 'x', content: 'x' },
          new RegExp(`Tool ${t} not found`),
        );
      }
      assert.equal(text(await ok(ro, 'read_file', { workspace: 'hello', path: 'README.md' })), README);
    } finally {
      await ro.close();
    }
  });

  it('destructive tools come only with --allow-destructive, flagged destructiveHint', async function () {
    this.timeout(120_000);
    const d = await startMcp(h, ['--allow-destructive']);
    try {
      const tools = (await d.client.listTools()).tools;
      for (const name of ['workspace_stop', 'workspace_rm']) {
        assert.equal(tools.find((t) => t.name === name)?.annotations?.destructiveHint, true, name);
      }
      const stopped = (await ok(d, 'workspace_stop', { workspace: 'hello' })).structuredContent as { state: string };
      assert.equal(stopped.state, 'stopped');
      const started = (await ok(d, 'workspace_start', { workspace: 'hello' })).structuredContent as { state: string };
      assert.equal(started.state, 'running');
      // The cached SSH session died with the old container: the next call opens a new one.
      assert.equal((await ok(s, 'exec', { workspace: 'hello', argv: ['true'] })).structuredContent?.exitCode, 0);
    } finally {
      await d.close();
    }
  });

  it("records every call in the coordinator's log: tool, workspace, duration, exit code, never contents", async () => {
    const log = readFileSync(join(h.home, 'logs', 'coordinator.log'), 'utf8');
    const calls = log
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => typeof l.tool === 'string');
    const exec42 = calls.find((c) => c.tool === 'exec' && c.exitCode === 42);
    assert.ok(exec42, 'the exit code 42 call');
    assert.equal(exec42.workspace, 'hello');
    assert.equal(exec42.node, node.name);
    assert.equal(exec42.ok, true);
    assert.equal(typeof exec42.durationMs, 'number');
    assert.ok(
      calls.some((c) => c.tool === 'read_file' && c.ok === false && c.error === 'PATH_OUTSIDE'),
      'refusals are recorded with their reason',
    );
    assert.ok(calls.some((c) => c.tool === 'workspace_up' && c.ok === true));
    assert.ok(calls.some((c) => c.tool === 'workspace_stop'));
    assert.doesNotMatch(log, /héllo from the agent/, 'no file contents');
    assert.doesNotMatch(log, /oops/, 'no command output');
  });
});
