import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** README's first command, as a new user runs it (with a private VENDETTA_HOME). */
describe('npm run demo', function () {
  this.timeout(120_000);
  let home: string;

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'vendetta-demo-'));
  });

  after(() => {
    spawnSync(process.execPath, [join(root, 'dist/vendetta.js'), 'coordinator', 'stop'], { env: { ...process.env, VENDETTA_HOME: home } });
    const pidFile = join(home, 'local-agent', 'daemon.pid');
    if (existsSync(pidFile)) {
      const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('validates the example, brings the local node online and diagnoses it', () => {
    const r = spawnSync('npm', ['run', '--silent', 'demo'], { cwd: root, env: { ...process.env, VENDETTA_HOME: home }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /examples\/hello\/\.vendetta\/config\.yaml: ok/);
    assert.match(r.stdout, /^local\s+online\s/m);
    assert.match(r.stdout, /^✔ agent\s+vendetta-agent /m);
    assert.match(r.stdout, /local: (ok|FAILED), \d of 6 checks passed/);
    assert.match(r.stdout, /Clean up:/);
  });
});
