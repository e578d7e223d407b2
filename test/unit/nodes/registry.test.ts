import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VendettaError } from '../../../coordinator/errors';
import { homePaths, type HomePaths } from '../../../coordinator/home';
import type { Logger, LogLevel } from '../../../coordinator/log';
import { NodeRegistry } from '../../../coordinator/nodes/registry';

function recordingLogger(): Logger & { lines: Array<{ level: LogLevel; message: string }> } {
  const lines: Array<{ level: LogLevel; message: string }> = [];
  const log = (level: LogLevel, message: string) => void lines.push({ level, message });
  return {
    lines,
    log,
    error: (m) => log('error', m),
    warn: (m) => log('warn', m),
    info: (m) => log('info', m),
    debug: (m) => log('debug', m),
  };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the node registry (nodes.yaml)', () => {
  let dir: string;
  let paths: HomePaths;
  let registry: NodeRegistry;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-registry-'));
    paths = homePaths(dir);
  });
  afterEach(() => {
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('always has the built-in local node, and never writes it to the file', () => {
    registry = new NodeRegistry(paths, recordingLogger());
    registry.reload();
    assert.deepEqual(
      registry.list().map((n) => [n.name, n.transport]),
      [['local', 'local']],
    );
    registry.upsert({ name: 'build-1', host: '10.0.0.5', port: 22, user: 'dev' });
    assert.deepEqual(
      registry.list().map((n) => n.name),
      ['local', 'build-1'],
    );
    const text = readFileSync(paths.nodesFile, 'utf8');
    assert.match(text, /build-1/);
    assert.doesNotMatch(text, /name: local/);
    assert.throws(
      () => registry.upsert({ name: 'local', host: 'x' }),
      (e: VendettaError) => e.code === 'INVALID_NAME',
    );
    assert.throws(
      () => registry.remove('local'),
      (e: VendettaError) => e.code === 'INVALID_NAME',
    );
  });

  it('writes atomically: a new file (new inode) in one rename, 0600, no temp files left', () => {
    registry = new NodeRegistry(paths, recordingLogger());
    registry.reload();
    registry.upsert({ name: 'a', host: 'a.example' });
    const first = statSync(paths.nodesFile);
    registry.upsert({ name: 'b', host: 'b.example', port: 2222 });
    const second = statSync(paths.nodesFile);
    assert.notEqual(first.ino, second.ino, 'replaced by rename, not rewritten in place');
    assert.equal(second.mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('tmp')),
      [],
    );
    const again = new NodeRegistry(paths, recordingLogger());
    again.reload();
    assert.deepEqual(
      again.list().map((n) => [n.name, n.port ?? 22]),
      [
        ['local', 22],
        ['a', 22],
        ['b', 2222],
      ],
    );
    assert.equal(registry.remove('a'), true);
    assert.equal(registry.remove('a'), false);
    again.reload();
    assert.deepEqual(
      again.list().map((n) => n.name),
      ['local', 'b'],
    );
  });

  it('picks up a hand edit', async () => {
    registry = new NodeRegistry(paths, recordingLogger(), { debounceMs: 20 });
    registry.reload();
    registry.watch();
    let changes = 0;
    registry.onChange(() => changes++);
    writeFileSync(paths.nodesFile, 'nodes:\n  - name: edited\n    host: 10.1.2.3\n    labels: { rack: a }\n');
    await until(() => registry.get('edited') !== undefined);
    assert.equal(registry.get('edited')?.labels?.rack, 'a');
    assert.ok(changes >= 1);
  });

  it('keeps the last good registry when a hand edit is bad, reports file:line:col, and refuses to overwrite it', async () => {
    const log = recordingLogger();
    registry = new NodeRegistry(paths, log, { debounceMs: 20 });
    registry.reload();
    registry.upsert({ name: 'good', host: 'good.example' });
    registry.watch();
    writeFileSync(paths.nodesFile, 'nodes:\n  - name: good\n    host: good.example\n  - name: Bad_Name\n    host: x\n');
    await until(() => registry.problem !== undefined);
    assert.equal(registry.problem?.file, paths.nodesFile);
    assert.equal(registry.problem?.line, 4);
    assert.ok((registry.problem?.col ?? 0) >= 1);
    assert.deepEqual(
      registry.list().map((n) => n.name),
      ['local', 'good'],
    );
    assert.ok(
      log.lines.some((l) => l.level === 'error' && l.message.includes(`${paths.nodesFile}:4:`)),
      'logged with its location',
    );
    assert.throws(
      () => registry.upsert({ name: 'other', host: 'o.example' }),
      (e: VendettaError) => e.code === 'REGISTRY_INVALID' && e.message.includes(':4:'),
    );
    assert.match(readFileSync(paths.nodesFile, 'utf8'), /Bad_Name/, 'the edit in progress was not overwritten');

    writeFileSync(paths.nodesFile, 'nodes:\n  - name: fixed\n    host: fixed.example\n');
    await until(() => registry.problem === undefined);
    assert.deepEqual(
      registry.list().map((n) => n.name),
      ['local', 'fixed'],
    );
  });

  it('treats a missing or empty file as no nodes but the built-in one', () => {
    registry = new NodeRegistry(paths, recordingLogger());
    writeFileSync(paths.nodesFile, '# nothing yet\n');
    registry.reload();
    assert.equal(registry.problem, undefined);
    assert.deepEqual(
      registry.list().map((n) => n.name),
      ['local'],
    );
  });

  it('reports YAML syntax errors with their position', () => {
    registry = new NodeRegistry(paths, recordingLogger());
    writeFileSync(paths.nodesFile, 'nodes:\n  - name: "unclosed\n');
    registry.reload();
    assert.ok(registry.problem);
    assert.ok(registry.problem.line >= 1 && registry.problem.col >= 1);
  });
});
