import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, type CallToolResult, type Progress } from '@modelcontextprotocol/sdk/types.js';
import type { CoordinatorClient } from '../../../coordinator/cli/client';
import { toolCallLogHandler, validateToolCall } from '../../../coordinator/daemon/toolCallLog';
import type { RequestContext } from '../../../coordinator/daemon/handlerTable';
import { VendettaError } from '../../../coordinator/errors';
import { CappedOutput } from '../../../coordinator/mcp/cappedOutput';
import { CoordinatorLink } from '../../../coordinator/mcp/coordinatorLink';
import { ALL_TOOLS, createMcpServer, errorResult, toolsFor } from '../../../coordinator/mcp/server';
import { execCommandLine } from '../../../coordinator/mcp/tools/execTool';
import { asText } from '../../../coordinator/mcp/tools/fileTools';
import { StepProgress } from '../../../coordinator/mcp/tools/workspaceTools';
import { WorkspaceSessions } from '../../../coordinator/mcp/workspaceSessions';
import type { ProgressParams, ToolCallRecord, WorkspaceUpParams } from '../../../coordinator/protocol';

/** A coordinator client that answers from a table and can be "lost". */
function fakeClient(
  answers: Record<string, (params: unknown, notify: (p: ProgressParams) => void) => unknown>,
  logged: ToolCallRecord[],
) {
  let onProgress: ((p: ProgressParams) => void) | undefined;
  let lose: (e: Error) => void = () => undefined;
  const lost = new Promise<never>((_, reject) => (lose = reject));
  lost.catch(() => undefined);
  const client = {
    async request(type: { method: string }, params: unknown) {
      if (type.method === 'mcp/logToolCall') {
        logged.push(validateToolCall(params));
        return { logged: true };
      }
      const answer = answers[type.method];
      if (!answer) throw new VendettaError('METHOD_NOT_FOUND', `no ${type.method}`);
      return answer(params, (p) => onProgress?.(p));
    },
    onNotification(_t: unknown, cb: (p: ProgressParams) => void) {
      onProgress = cb;
    },
    lostConnection: lost,
    dispose: () => undefined,
  };
  return { client: client as unknown as CoordinatorClient, lose: () => lose(new Error('gone')) };
}

async function connected(opts: Parameters<typeof createMcpServer>[0], link: CoordinatorLink) {
  const server = createMcpServer(opts, link, new WorkspaceSessions(link));
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'unit', version: '1' });
  await Promise.all([server.connect(a), client.connect(b)]);
  return { client, close: () => client.close() };
}

describe('vendetta mcp, without a coordinator', () => {
  it('offers tools by the safety flags: read-only keeps only readers, destructive ones need --allow-destructive', () => {
    const names = (o: Parameters<typeof toolsFor>[0]) =>
      toolsFor(o)
        .map((t) => t.name)
        .sort();
    assert.deepEqual(names({ readOnly: true }), [
      'list_files',
      'list_nodes',
      'list_ports',
      'list_workspaces',
      'read_file',
      'service_logs',
      'workspace_status',
    ]);
    assert.ok(!names({}).includes('workspace_rm') && names({}).includes('exec'));
    assert.deepEqual(names({ allowDestructive: true }), ALL_TOOLS.map((t) => t.name).sort());
    assert.deepEqual(names({ readOnly: true, allowDestructive: true }), names({ readOnly: true }), '--read-only wins');
  });

  it('answers tool calls through the coordinator, sends progress, and records each call without its contents', async () => {
    const logged: ToolCallRecord[] = [];
    const asked: WorkspaceUpParams[] = [];
    const { client } = fakeClient(
      {
        'nodes/list': () => [
          {
            name: 'n1',
            host: 'h',
            port: 22,
            user: 'u',
            transport: 'ssh',
            status: 'online',
            latencyMs: 3,
            agentVersion: '1',
            lastSeen: null,
            providers: {
              docker: { available: true, version: '27' },
              lxc: { available: false },
              qemu: { available: false, kvm: false },
            },
          },
        ],
        'workspaces/up': (p, notify) => {
          asked.push(p as WorkspaceUpParams);
          const token = (p as { progressToken: string }).progressToken;
          for (const [step, message] of [
            [1, 'a'],
            [2, 'b'],
            [2, 'b2'],
            [3, 'c'],
          ] as const)
            notify({ token, step, total: 3, message });
          notify({ token: 'someone else', step: 1, total: 1, message: 'not ours' });
          return { name: 'w', node: 'n1', state: 'running' };
        },
        'workspaces/stop': () => {
          throw new VendettaError('WORKSPACE_NOT_FOUND', 'There is no workspace named w', { hint: 'list them' });
        },
      },
      logged,
    );
    const link = new CoordinatorLink(async () => client);
    const c = await connected({ allowDestructive: true }, link);
    try {
      const nodes = (await c.client.callTool({ name: 'list_nodes', arguments: {} })) as CallToolResult;
      assert.deepEqual((nodes.structuredContent as { nodes: Array<{ providers: string[] }> }).nodes[0]!.providers, [
        'docker 27',
      ]);
      const seen: Progress[] = [];
      const up = (await c.client.callTool(
        { name: 'workspace_up', arguments: { path: '/p', node: 'n1' } },
        CallToolResultSchema,
        { onprogress: (p) => seen.push(p) },
      )) as CallToolResult;
      assert.notEqual(up.isError, true);
      assert.deepEqual(
        seen.map((p) => p.message),
        ['[1/3] a', '[2/3] b', '[2/3] b2', '[3/3] c', 'done'],
      );
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.progress > seen[i - 1]!.progress);
      const stop = (await c.client.callTool({
        name: 'workspace_stop',
        arguments: { workspace: 'w' },
      })) as CallToolResult;
      assert.equal(stop.isError, true);
      assert.deepEqual(stop.content, [{ type: 'text', text: 'error: There is no workspace named w\nhint: list them' }]);
      const rel = (await c.client.callTool({
        name: 'workspace_up',
        arguments: { path: 'relative' },
      })) as CallToolResult;
      assert.equal(rel.isError, true, 'the schema refuses a relative project path');
      // The dotfiles as `up --dotfiles…` and vendetta.dotfiles.* give them; described in the schema.
      const dotfiles = { repository: 'me/dots', installCommand: 'go.sh', targetPath: '~/.dots' };
      await c.client.callTool({ name: 'workspace_up', arguments: { path: '/p', dotfiles } });
      assert.deepEqual(
        asked.map((p) => p.dotfiles),
        [undefined, dotfiles],
      );
      const stray = (await c.client.callTool({
        name: 'workspace_up',
        arguments: { path: '/p', dotfiles: { repository: 'me/dots', branch: 'x' } },
      })) as CallToolResult;
      assert.equal(stray.isError, true, 'an unknown dotfiles field is refused, not dropped');
      const schema = (await c.client.listTools()).tools.find((t) => t.name === 'workspace_up')!
        .inputSchema as unknown as {
        properties: { dotfiles: { properties: Record<string, { description?: string }> } };
      };
      for (const key of ['repository', 'installCommand', 'targetPath'])
        assert.ok(schema.properties.dotfiles.properties[key]?.description, key);
      assert.deepEqual(
        logged.map((l) => [l.tool, l.ok, l.workspace, l.error]),
        [
          ['list_nodes', true, undefined, undefined],
          ['workspace_up', true, 'w', undefined],
          ['workspace_stop', false, 'w', 'WORKSPACE_NOT_FOUND'],
          ['workspace_up', true, 'w', undefined],
        ],
      );
    } finally {
      await c.close();
    }
  });

  it('reconnects to the coordinator after it was lost', async () => {
    const logged: ToolCallRecord[] = [];
    const made: Array<ReturnType<typeof fakeClient>> = [];
    const link = new CoordinatorLink(async () => {
      made.push(fakeClient({ 'workspaces/list': () => [] }, logged));
      return made[made.length - 1]!.client;
    });
    assert.deepEqual(await link.request({ method: 'workspaces/list' } as never, {}), []);
    assert.equal(await link.get(), made[0]!.client, 'kept');
    made[0]!.lose();
    await new Promise((r) => setImmediate(r));
    assert.notEqual(await link.get(), made[0]!.client, 'a new one after the loss');
    const failing = new CoordinatorLink(async () => {
      throw new VendettaError('INTERNAL', 'no coordinator');
    });
    await assert.rejects(failing.get(), /no coordinator/);
    await failing.logCall({ tool: 'exec', durationMs: 1, ok: true });
    link.dispose();
  });

  it('shows errors as the CLI does: error, hint, causes', () => {
    const r = errorResult(new VendettaError('INTERNAL', 'broke', { hint: 'do this', cause: new Error('deeper') }));
    assert.deepEqual(r, {
      isError: true,
      content: [{ type: 'text', text: 'error: broke\nhint: do this\ncause: deeper' }],
    });
  });

  it('the coordinator refuses a tool-call record that could carry contents', () => {
    assert.deepEqual(
      validateToolCall({ tool: 'exec', workspace: 'w', node: 'n', durationMs: 12.4, ok: true, exitCode: 3 }),
      { tool: 'exec', workspace: 'w', node: 'n', durationMs: 12, ok: true, exitCode: 3 },
    );
    for (const bad of [
      { tool: 'exec', durationMs: 1, ok: true, stdout: 'secret' },
      { tool: 'Bad Tool', durationMs: 1, ok: true },
      { tool: 'exec', durationMs: -1, ok: true },
      { tool: 'exec', durationMs: 1, ok: 'yes' },
      { tool: 'exec', durationMs: 1, ok: true, exitCode: 300 },
      { tool: 'exec', durationMs: 1, ok: false, error: 'a message, not a code' },
      { tool: 'exec', durationMs: 1, ok: true, workspace: '../x' },
    ]) {
      assert.throws(
        () => validateToolCall(bad),
        (e: VendettaError) => e.code === 'INVALID_PARAMS' || e.code === 'INVALID_NAME',
        JSON.stringify(bad),
      );
    }
    assert.equal(
      validateToolCall({ tool: 'exec', durationMs: 1, ok: false, exitCode: null, error: 'PATH_OUTSIDE' }).exitCode,
      null,
    );
  });

  it('the coordinator writes one info line per call, naming the client', () => {
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const log = {
      log: () => undefined,
      error: () => undefined,
      warn: () => undefined,
      debug: () => undefined,
      info: (m: string, f?: Record<string, unknown>) => lines.push([m, f]),
    };
    const h = toolCallLogHandler(log);
    const ctx = {
      client: { id: 4, initialized: { protocolVersion: 1, client: { name: 'vendetta-mcp', version: '0.1.0' } } },
    } as unknown as RequestContext;
    assert.deepEqual(h.run(h.validate({ tool: 'exec', workspace: 'w', durationMs: 5, ok: true, exitCode: 0 }), ctx), {
      logged: true,
    });
    h.run(h.validate({ tool: 'read_file', durationMs: 1, ok: false, error: 'PATH_OUTSIDE' }), ctx);
    assert.deepEqual(lines, [
      [
        'mcp tool exec',
        { client: 4, clientName: 'vendetta-mcp', tool: 'exec', workspace: 'w', durationMs: 5, ok: true, exitCode: 0 },
      ],
      [
        'mcp tool read_file failed',
        { client: 4, clientName: 'vendetta-mcp', tool: 'read_file', durationMs: 1, ok: false, error: 'PATH_OUTSIDE' },
      ],
    ]);
  });
});

describe('exec and read_file shape what a model sees', () => {
  it('keeps the head and the tail of a flood, and counts what it cut', () => {
    const o = new CappedOutput(10);
    for (const c of ['abc', 'defgh', 'ijklmnop', 'qrstuvwxyz']) o.push(Buffer.from(c));
    assert.equal(o.totalBytes, 26);
    assert.equal(o.cutBytes, 16);
    assert.equal(o.bytes().toString(), 'abcdevwxyz');
    assert.match(o.text(), /^abcde\n\[… 16 bytes cut: the output had 26 bytes, the cap is 10 …\]\nvwxyz$/);
    const small = new CappedOutput(100);
    small.push(Buffer.from('all of it'));
    assert.equal(small.text(), 'all of it');
  });

  it('builds a command line that sh runs word for word, with cwd, env and a deadline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-mcp-exec-'));
    try {
      spawnSync('mkdir', [join(dir, 'sub dir')]);
      const line = execCommandLine(
        dir,
        {
          argv: ['sh', '-c', 'pwd; printf "%s|" "$1" "$V"', 'x', "a 'b' $(c)"],
          cwd: 'sub dir',
          env: { V: '"$HOME" `x`' },
        },
        5,
      );
      const r = spawnSync('sh', ['-c', line], { encoding: 'utf8' });
      assert.equal(r.stdout, `${join(dir, 'sub dir')}\na 'b' $(c)|"$HOME" \`x\`|`);
      const shell = spawnSync('sh', ['-c', execCommandLine(dir, { command: 'echo $((6*7)) | cat' }, 5)], {
        encoding: 'utf8',
      });
      assert.equal(shell.stdout, '42\n');
      const slow = spawnSync('sh', ['-c', execCommandLine(dir, { argv: ['sleep', '10'] }, 1)], { encoding: 'utf8' });
      assert.equal(slow.status, 124, 'timeout(1) ends it at the deadline');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => execCommandLine('/w', { argv: ['a'], command: 'b' }, 1), /exactly one of argv/);
    assert.throws(() => execCommandLine('/w', {}, 1), /exactly one of argv/);
    assert.throws(() => execCommandLine('/w', { argv: [] }, 1), /argv is empty/);
    assert.throws(
      () => execCommandLine('/w', { argv: ['a'], env: { 'A=B': 'x' } }, 1),
      /Invalid environment variable name/,
    );
    assert.throws(() => execCommandLine('/w', { argv: ['a'], cwd: '../etc' }, 1), /outside the workspace folder/);
  });

  it('tells text from binary, forgiving a character split by the read cap', () => {
    assert.equal(asText(Buffer.from('héllo'), false), 'héllo');
    assert.equal(asText(Buffer.from([0x61, 0, 0x62]), false), undefined);
    assert.equal(asText(Buffer.from([0xff, 0xfe]), false), undefined);
    assert.equal(asText(Buffer.from('hé').subarray(0, 2), true), 'h');
    assert.equal(asText(Buffer.from('hé').subarray(0, 2), false), undefined);
  });

  it('makes progress grow even when a step repeats', () => {
    const p = new StepProgress();
    const xs = [p.next(1, 4), p.next(1, 4), p.next(2, 4), p.next(2, 4), p.next(2, 4), p.next(4, 4)];
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i]! > xs[i - 1]!, JSON.stringify(xs));
    assert.ok(xs[4]! < 2);
    assert.equal(p.total, 4);
  });
});
