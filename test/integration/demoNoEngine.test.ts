import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killPids, requireRoot, waitGoneSync } from '../infra/sys';

const root = join(__dirname, '..', '..');

/**
 * The demo as a user who is not root, on a machine without a Docker engine. The test makes that
 * machine itself, whatever runs on this one: an empty /run of its own (a private mount namespace),
 * so no /var/run/docker.sock, no rootless socket, and no DOCKER_HOST.
 */
describe('npm run demo, as a user without an engine', function () {
  this.timeout(180_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(function () {
    requireRoot(this, 'the demo test without an engine (runuser, a private mount namespace)');
    dir = mkdtempSync(join(tmpdir(), 'vendetta-demo-noengine-'));
    chmodSync(dir, 0o755);
    mkdirSync(view(dir));
    const home = join(dir, 'nobody');
    mkdirSync(home);
    chmodSync(home, 0o777);
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      VENDETTA_HOME: join(home, 'vendetta'),
      SSH_AUTH_SOCK: '',
    };
  });

  after(() => {
    if (!dir) return;
    // The coordinator and the local agent the demo started (as nobody) outlive it by design.
    spawnSync(
      ...asNobody(dir, ['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', '/run'].join(' '), [
        join(view(dir), 'dist/vendetta.js'),
        'coordinator',
        'stop',
      ]),
      { env, timeout: 60_000 },
    );
    const pidFile = join(env.VENDETTA_HOME!, 'local-agent', 'daemon.pid');
    if (existsSync(pidFile)) {
      const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
      killPids([pid], 'SIGTERM');
      waitGoneSync([pid], 5_000);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('not root and no Docker engine: says what is needed, still diagnoses the node, exits 1', () => {
    const [cmd, args] = asNobody(dir, 'mount -t tmpfs -o mode=0755 tmpfs /run', [
      join(view(dir), 'scripts', 'demo.mjs'),
    ]);
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 150_000 });
    assert.equal(r.status, 1, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /^error: no Docker engine answers on \/var\/run\/docker\.sock \(or DOCKER_HOST\), and only root may start one$/m,
    );
    assert.match(r.stderr, /^hint: Run `npm run demo` as root/m);
    assert.match(
      r.stdout,
      /provider docker +no Docker engine answers on \/var\/run\/docker\.sock \(the socket does not exist\)/,
    );
    assert.doesNotMatch(r.stdout, /workspace up/);
  });
});

/** Where nobody sees the checkout: a clone may sit in a folder only root can enter (/root, a 0700 temp dir). */
const view = (dir: string) => join(dir, 'repo');

/**
 * Runs node ARGS as nobody in a private mount namespace, after PREPARE (as root there), with the
 * checkout bind-mounted at view(dir) and that as the working folder.
 */
function asNobody(dir: string, prepare: string, args: string[]): [string, string[]] {
  const script = `${prepare} && mount --bind "$1" "$2" && cd "$2" && shift 2 && exec runuser -u nobody -- "$@"`;
  return [
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', root, view(dir), process.execPath, ...args],
  ];
}
