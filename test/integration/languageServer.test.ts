import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';

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
    child = spawn(process.execPath, [join(root, 'dist/languageServer.js'), '--stdio'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
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
    const exited = new Promise<void>((resolve) =>
      child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
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
    assert.ok(
      diags.some((d) => d.range.start.line === 1 && d.severity === 1),
      JSON.stringify(diags),
    );
  });

  interface CompletionItem {
    label: string;
    documentation?: { value: string };
    textEdit?: {
      newText: string;
      range: { start: { line: number; character: number }; end: { line: number; character: number } };
    };
  }
  const complete = async (uri: string, line: number, character: number) =>
    (await conn.sendRequest('textDocument/completion', {
      textDocument: { uri },
      position: { line, character },
    })) as CompletionItem[];
  const hoverAt = async (uri: string, line: number, character: number) =>
    (await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } })) as {
      contents: { value: string };
      range: { start: { line: number; character: number }; end: { line: number; character: number } };
    } | null;

  it('completes keys from the schema at the cursor, with their descriptions, leaving out keys already there', async () => {
    const file = '/tmp/lsp-test/d/.vendetta/config.yaml';
    const uri = pathToFileURL(file).toString();
    const text = [
      'name: shop',
      'prov',
      'services:',
      '  api:',
      '    command: node api.js',
      '    ',
      '  db: { command: x, por }',
      '',
    ].join('\n');
    await open(file, text);
    const root = await complete(uri, 1, 4);
    const labels = root.map((i) => i.label);
    assert.ok(labels.includes('provider') && labels.includes('docker') && labels.includes('hooks'), labels.join(','));
    assert.ok(!labels.includes('name') && !labels.includes('services'), 'keys already there are not offered');
    const provider = root.find((i) => i.label === 'provider')!;
    assert.match(provider.documentation!.value, /What the workspace runs in/);
    assert.deepEqual(provider.textEdit!.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 4 } });
    assert.equal(provider.textEdit!.newText, 'provider: $0');
    const service = (await complete(uri, 5, 4)).map((i) => i.label).sort();
    assert.deepEqual(
      service,
      ['depends_on', 'env', 'healthcheck', 'port', 'reload', 'restart'],
      "a service's keys but `command`, which it has",
    );
    const flow = await complete(uri, 6, 23);
    assert.ok(
      flow.some((i) => i.label === 'port' && /listens on/.test(i.documentation!.value)),
      JSON.stringify(flow.map((i) => i.label)),
    );
  });

  it("completes values: enums, and the document's own service names in depends_on", async () => {
    const file = '/tmp/lsp-test/e/.vendetta/config.yaml';
    const uri = pathToFileURL(file).toString();
    const text = [
      'name: shop',
      'provider: ',
      'services:',
      '  db: { command: x, restart: al }',
      '  cache: { command: y }',
      '  api: { command: z, depends_on: [] }',
      '',
    ].join('\n');
    await open(file, text);
    assert.deepEqual(
      (await complete(uri, 1, 10)).map((i) => i.label),
      ['docker', 'lxc', 'qemu'],
    );
    const restart = await complete(uri, 3, 31);
    assert.deepEqual(
      restart.map((i) => i.label),
      ['no', 'on-failure', 'always'],
    );
    assert.equal(
      restart.find((i) => i.label === 'no')!.textEdit!.newText,
      '"no"',
      'a YAML boolean word stays a string',
    );
    assert.deepEqual(restart[0]!.textEdit!.range, {
      start: { line: 3, character: 29 },
      end: { line: 3, character: 31 },
    });
    assert.deepEqual(
      (await complete(uri, 5, 34)).map((i) => i.label),
      ['db', 'cache'],
    );
  });

  it('completes nodes.yaml entries from the node registry schema', async () => {
    const file = '/tmp/lsp-test/home2/nodes.yaml';
    const uri = pathToFileURL(file).toString();
    await open(file, 'nodes:\n  - name: a\n    \n');
    const labels = (await complete(uri, 2, 4)).map((i) => i.label);
    for (const k of ['host', 'port', 'user', 'identity', 'hostKey', 'transport', 'labels'])
      assert.ok(labels.includes(k), `${k} in ${labels.join(',')}`);
    assert.ok(!labels.includes('name'));
  });

  it("hovers keys and values with the schema's description, type and default", async () => {
    const file = '/tmp/lsp-test/f/.vendetta/config.yaml';
    const uri = pathToFileURL(file).toString();
    const text = [
      'name: shop',
      'provider: docker',
      'services:',
      '  api:',
      '    command: npm run dev',
      '    healthcheck: { http: "http://localhost:3000/", interval: 2s }',
      '',
    ].join('\n');
    await open(file, text);
    const provider = await hoverAt(uri, 1, 3);
    assert.ok(provider);
    assert.match(provider.contents.value, /^\*\*provider\*\*/);
    assert.match(provider.contents.value, /What the workspace runs in/);
    assert.match(provider.contents.value, /One of: `docker`, `lxc`, `qemu`/);
    assert.deepEqual(provider.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 8 } });
    const api = await hoverAt(uri, 3, 3);
    assert.match(
      api!.contents.value,
      /A long-running process inside the workspace/,
      'a service name shows what a service is',
    );
    const interval = await hoverAt(uri, 5, 53);
    assert.match(interval!.contents.value, /Time between attempts[\s\S]*Default: `2s`/);
    assert.equal(await hoverAt(uri, 6, 0), null, 'nothing under an empty line');
  });

  it('offers the did-you-mean value of an enum as a quick fix that yields a valid config', async () => {
    const file = '/tmp/lsp-test/g/.vendetta/config.yaml';
    const uri = pathToFileURL(file).toString();
    const text = 'name: shop\nprovider: dokcer\n';
    const diags = await open(file, text);
    const bad = diags.find((d) => d.range.start.line === 1);
    assert.ok(bad, JSON.stringify(diags));
    const actions = (await conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: bad.range,
      context: { diagnostics: [bad] },
    })) as Array<{
      title: string;
      edit: { changes: Record<string, Array<{ newText: string; range: LspDiagnostic['range'] }>> };
    }>;
    assert.equal(actions.length, 1, JSON.stringify(diags));
    assert.equal(actions[0]!.title, "Change to 'docker'");
    const edit = actions[0]!.edit.changes[uri]![0]!;
    const lines = text.split('\n');
    lines[1] =
      lines[1]!.slice(0, edit.range.start.character) + edit.newText + lines[1]!.slice(edit.range.end.character);
    assert.deepEqual(await open(file, lines.join('\n'), 2), []);
  });

  it('publishes no diagnostics for a valid config', async () => {
    const diags = await open('/tmp/lsp-test/c/.vendetta/config.yaml', 'name: ok\nprovider: docker\n');
    assert.deepEqual(diags, []);
  });
});
