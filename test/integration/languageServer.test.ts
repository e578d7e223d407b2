import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

const root = join(__dirname, '..', '..');

interface LspDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: number;
  message: string;
  code: string;
  source: string;
  data?: { replacement?: string };
}

/** Drives the real bundled language server over stdio, as an editor would. */
describe('the config language server', function () {
  this.timeout(30_000);
  let child: ChildProcess;
  let conn: MessageConnection;
  const published = new Map<string, LspDiagnostic[]>();
  const waiters: Array<() => void> = [];

  before(async () => {
    child = spawn(process.execPath, [join(root, 'dist/languageServer.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: LspDiagnostic[] }) => {
      published.set(p.uri, p.diagnostics);
      for (const w of waiters.splice(0)) w();
    });
    conn.listen();
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await conn.sendNotification('initialized', {});
  });

  after(async () => {
    if (!child) return;
    const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    if (conn) {
      // A clean shutdown lets the server exit by itself (and write its coverage).
      await conn.sendRequest('shutdown').catch(() => undefined);
      await conn.sendNotification('exit').catch(() => undefined);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    conn?.dispose();
  });

  async function open(path: string, text: string, version = 1): Promise<LspDiagnostic[]> {
    const uri = pathToFileURL(path).toString();
    published.delete(uri);
    const arrived = new Promise<void>((resolve) => {
      const check = () => (published.has(uri) ? resolve() : waiters.push(check));
      check();
    });
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version, text } });
    await arrived;
    return published.get(uri)!;
  }

  it('reports a dependency cycle and an unknown dependency at their lines', async () => {
    const text = [
      'name: shop',
      'provider: docker',
      'services:',
      '  api: { command: "node api.js", port: 3000, depends_on: [web] }',
      '  web: { command: "node web.js", port: 8080, depends_on: [api, cache] }',
      '',
    ].join('\n');
    const diags = await open('/tmp/lsp-test/a/.vendetta/config.yaml', text);
    const cycle = diags.find((d) => d.code === 'dependency-cycle');
    assert.ok(cycle, JSON.stringify(diags));
    assert.match(cycle.message, /api -> web -> api|web -> api -> web/);
    const unknown = diags.find((d) => d.code === 'depends-on-unknown');
    assert.ok(unknown, JSON.stringify(diags));
    assert.equal(unknown.range.start.line, 4);
    assert.equal(text.split('\n')[4]!.slice(unknown.range.start.character, unknown.range.end.character), 'cache');
    assert.equal(unknown.source, 'vendetta');
  });

  it('offers the did-you-mean key as a quick fix', async () => {
    const text = 'name: shop\nprovider: docker\nservises:\n  api: { command: x }\n';
    const uri = pathToFileURL('/tmp/lsp-test/b/.vendetta/config.yaml').toString();
    const diags = await open('/tmp/lsp-test/b/.vendetta/config.yaml', text);
    const unknown = diags.find((d) => d.code === 'unknown-key');
    assert.ok(unknown, JSON.stringify(diags));
    assert.equal(unknown.range.start.line, 2);
    const actions = (await conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: unknown.range,
      context: { diagnostics: [unknown] },
    })) as Array<{ title: string; edit: { changes: Record<string, Array<{ newText: string }>> } }>;
    assert.equal(actions.length, 1);
    assert.equal(actions[0]!.edit.changes[uri]![0]!.newText, 'services');
  });

  it('validates nodes.yaml with the registry rules', async () => {
    const diags = await open('/tmp/lsp-test/home/nodes.yaml', 'nodes:\n  - name: "a;b"\n    host: build-1\n');
    assert.ok(diags.some((d) => d.range.start.line === 1 && d.severity === 1), JSON.stringify(diags));
  });

  it('publishes no diagnostics for a valid config', async () => {
    const diags = await open('/tmp/lsp-test/c/.vendetta/config.yaml', 'name: ok\nprovider: docker\n');
    assert.deepEqual(diags, []);
  });
});
