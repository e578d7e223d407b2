import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FIXTURES, devcontainerFixtures, yamlFixtures } from '../fixtures/config/expectations';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'vendetta.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let home: string;

function run(args: string[], cwd = root): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd, env: { ...process.env, VENDETTA_HOME: home }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs many CLI invocations a few at a time. */
async function runAll(jobs: [string, string[]][], parallel = 6): Promise<Map<string, Run>> {
  const out = new Map<string, Run>();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [key, args] = jobs[next++]!;
      out.set(key, await run(args));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/** The CLI never shows a stack trace or an unhandled exception: config problems go to stdout. */
function assertCleanStderr(r: Run): void {
  assert.equal(r.stderr, '', `stderr: ${r.stderr}`);
}

describe('vendetta config validate (the built CLI)', function () {
  this.timeout(120_000);
  const invalid = yamlFixtures(join(FIXTURES, 'invalid'));
  const valid = yamlFixtures(join(FIXTURES, 'valid'));
  let results: Map<string, Run>;
  let tmp: string;

  before(async function () {
    this.timeout(120_000);
    home = mkdtempSync(join(tmpdir(), 'vendetta-cfgtest-home-'));
    tmp = mkdtempSync(join(tmpdir(), 'vendetta-cfgtest-'));
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    const jobs: [string, string[]][] = [];
    for (const f of [...invalid, ...valid]) jobs.push([f.file, ['config', 'validate', relative(root, f.file)]]);
    for (const f of devcontainerFixtures()) jobs.push([f.dir, ['config', 'validate', relative(root, f.dir)]]);
    results = await runAll(jobs);
  });

  after(() => {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  describe('exits 1 with a located `file:line:col: error:` line for each invalid config', () => {
    for (const f of invalid) {
      it(f.name, () => {
        const r = results.get(f.file)!;
        const rel = relative(root, f.file);
        assert.equal(r.code, 1, r.stdout);
        assertCleanStderr(r);
        assert.doesNotMatch(r.stdout, /: ok$/m);
        for (const e of f.expected) {
          const prefix = `${rel}:${e.line}:${e.col}: ${e.severity}: `;
          const line = r.stdout.split('\n').find((l) => l.startsWith(prefix) && l.includes(e.messageIncludes));
          assert.ok(line, `no line starting ${prefix} with "${e.messageIncludes}" in:\n${r.stdout}`);
        }
        // Every problem line is located, and every hint line belongs to one.
        for (const l of r.stdout.trimEnd().split('\n'))
          assert.match(l, /^(\S+:\d+:\d+: (error|warning|info): .+| {2}hint: .+)$/);
      });
    }
  });

  describe('exits 0 and prints `PATH: ok` for each valid config', () => {
    for (const f of valid) {
      it(f.name, () => {
        const r = results.get(f.file)!;
        assert.equal(r.code, 0, r.stdout);
        assertCleanStderr(r);
        assert.match(r.stdout, new RegExp(`^${relative(root, f.file).replace(/[.]/g, '\\.')}: ok$`, 'm'));
        for (const e of f.expected) assert.ok(r.stdout.includes(`:${e.line}:${e.col}: warning: `), r.stdout);
      });
    }
  });

  describe('falls back to devcontainer.json in a project folder', () => {
    for (const f of devcontainerFixtures()) {
      it(f.name, () => {
        const r = results.get(f.dir)!;
        assertCleanStderr(r);
        assert.equal(r.code, f.valid ? 0 : 1, r.stdout);
        const file =
          f.source === 'vendetta'
            ? '.vendetta/config.yaml'
            : f.name === 'root-file'
              ? '.devcontainer.json'
              : '.devcontainer/devcontainer.json';
        const rel = join(relative(root, f.dir), file);
        if (f.valid) assert.match(r.stdout, new RegExp(`^${rel.replace(/[.]/g, '\\.')}: ok$`, 'm'));
        for (const e of f.diagnostics)
          assert.ok(r.stdout.includes(`${rel}:${e.line}:${e.col}: ${e.severity}: `), r.stdout);
      });
    }
  });

  it('prints the problems as a JSON array with --json', async () => {
    const f = invalid.find((x) => x.name === 'misspelt-command')!;
    const r = await run(['config', 'validate', '--json', relative(root, f.file)]);
    assert.equal(r.code, 1);
    assertCleanStderr(r);
    const items = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.equal(items.length, 2);
    for (const item of items) {
      assert.deepEqual(Object.keys(item).sort(), [
        'col',
        'endCol',
        'endLine',
        'file',
        'hint',
        'line',
        'message',
        'severity',
      ]);
      assert.equal(item.file, relative(root, f.file));
    }
    assert.deepEqual(
      items.map((i) => [i.severity, i.line, i.col]),
      [
        ['error', 4, 3],
        ['warning', 5, 5],
      ],
    );
  });

  it('prints an empty JSON array and exits 0 for a valid config, and warnings alone still exit 0', async () => {
    const ok = await run(['config', 'validate', '--json', 'examples/hello']);
    assert.equal(ok.code, 0);
    assert.deepEqual(JSON.parse(ok.stdout), []);
    const warned = await run([
      'config',
      'validate',
      '--json',
      relative(root, join(FIXTURES, 'valid/unknown-key-warning.yaml')),
    ]);
    assert.equal(warned.code, 0);
    assert.deepEqual(
      (JSON.parse(warned.stdout) as { severity: string }[]).map((d) => d.severity),
      ['warning'],
    );
  });

  it('validates the current folder by default', async () => {
    const r = await run(['config', 'validate'], join(root, 'examples/hello'));
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '.vendetta/config.yaml: ok\n');
  });

  it('refuses a 5 MB file with a clear size error', async () => {
    const big = join(tmp, 'big.yaml');
    writeFileSync(big, 'name: x\n' + 'env: {A: b}\n'.repeat(450_000));
    const r = await run(['config', 'validate', big]);
    assert.equal(r.code, 1);
    assertCleanStderr(r);
    assert.match(
      r.stdout,
      new RegExp(`^${big}:1:1: error: the file is 5\\.1 MiB; a config file may be at most 1 MiB$`, 'm'),
    );
  });

  it('gives a located error for a path that does not exist and for a folder without a config', async () => {
    const missing = await run(['config', 'validate', 'no/such/place.yaml']);
    assert.equal(missing.code, 1);
    assertCleanStderr(missing);
    assert.match(missing.stdout, /^no\/such\/place\.yaml:1:1: error: no such file or folder$/m);
    const empty = join(tmp, 'empty-project');
    mkdirSync(empty);
    const none = await run(['config', 'validate', empty]);
    assert.equal(none.code, 1);
    assertCleanStderr(none);
    assert.match(
      none.stdout,
      new RegExp(
        `^${empty}:1:1: error: no \\.vendetta/config\\.yaml or \\.devcontainer/devcontainer\\.json in this folder$`,
        'm',
      ),
    );
  });

  it('checks several paths at once and fails if any fails', async () => {
    const good = relative(root, join(FIXTURES, 'valid/minimal.yaml'));
    const bad = relative(root, join(FIXTURES, 'invalid/port-clash.yaml'));
    const r = await run(['config', 'validate', good, bad]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^${good.replace(/[.]/g, '\\.')}: ok$`, 'm'));
    assert.match(r.stdout, /port-clash\.yaml:5:28: error: port 3000 is used by both `api` and `web`/);
  });

  it('validates a nodes.yaml by its name', async () => {
    const dir = join(tmp, 'home');
    mkdirSync(dir);
    const nodes = join(dir, 'nodes.yaml');
    copyFileSync(join(FIXTURES, 'nodes/invalid/host-option-injection.yaml'), nodes);
    const bad = await run(['config', 'validate', nodes]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stdout,
      new RegExp(`^${nodes}:3:11: error: \`nodes\\[0\\]\\.host\` is not a valid host name or address`, 'm'),
    );
    copyFileSync(join(FIXTURES, 'nodes/valid/two-nodes.yaml'), nodes);
    const good = await run(['config', 'validate', nodes]);
    assert.equal(good.code, 0);
    assert.equal(good.stdout, `${nodes}: ok\n`);
  });

  it('describes itself in --help', async () => {
    const r = await run(['config', 'validate', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: vendetta config validate \[options\] \[paths\.\.\.\]/);
    assert.match(r.stdout, /--json/);
  });
});
