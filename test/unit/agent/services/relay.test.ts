/**
 * The port relay script (relay.ts) for real, with node, in a fresh network namespace that has
 * a loopback and a veth pair: 10.250.0.1 is the workspace's own address as Docker sees it, 10.250.0.2
 * its default gateway (where Docker's proxy connects from).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayArgv } from '../../../../agent/services/relay';
import { requireCommands, requireRoot } from '../../../infra/sys';

const SCENARIO = `
const net = require('net'); const { spawn } = require('child_process');
const [port, ...argv] = JSON.parse(process.argv[2]);
const say = (s) => console.log(s);
const lines = []; let waiters = [];
const relay = spawn(argv[0], argv.slice(1));
relay.stdout.on('data', (b) => { for (const l of b.toString().split('\\n').filter(Boolean)) { lines.push(l); waiters.forEach((w) => w()); } });
const seen = (l) => new Promise((r) => { const c = () => lines.includes(l) && r(); waiters.push(c); c(); });
const ask = (from) => new Promise((r) => { const s = net.connect({ port, host: '10.250.0.1', localAddress: from }); let got = ''; s.on('data', (d) => (got += d)); s.on('end', () => r(got || 'closed')); s.on('error', (e) => r('error ' + e.code)); });
(async () => {
  const svc = net.createServer((c) => c.end('pong')).listen(port, '127.0.0.1');
  await seen('relaying ' + port);
  say('through relay: ' + (await ask('10.250.0.2')));
  say('from elsewhere: ' + (await ask('10.250.0.1')));
  svc.close();
  await seen('released ' + port);
  const own = net.createServer((c) => c.end('direct')).listen(port, '0.0.0.0');
  await new Promise((r) => own.on('listening', r));
  say('own bind: ' + (await ask('10.250.0.1')));
  await new Promise((r) => setTimeout(r, 200));
  say('relay lines: ' + lines.join(','));
  relay.kill('SIGKILL'); own.close(); process.exit(0);
})();
setTimeout(() => { say('timeout ' + lines.join(',')); relay.kill('SIGKILL'); process.exit(1); }, 10000);
`;

describe('agent services: the port relay in a network namespace', function () {
  this.timeout(30_000);
  let dir: string;
  before(function () {
    requireRoot(this, 'the port relay test (a network namespace)');
    requireCommands(this, 'the port relay test', ['unshare', 'ip']);
    dir = mkdtempSync(join(tmpdir(), 'vendetta-relay-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('relays a loopback-only listener on the other address for the gateway only, and lets go when it goes', () => {
    const script = join(dir, 'scenario.js');
    writeFileSync(script, SCENARIO);
    const args = JSON.stringify([4567, ...relayArgv([4567])]);
    const r = spawnSync(
      'unshare',
      [
        '-n',
        '/bin/sh',
        '-c',
        'ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 10.250.0.1/24 dev v0 && ip addr add 10.250.0.2/24 dev v1 && ip link set v1 up && ip link set v0 up && ip route add default via 10.250.0.2 dev v0 && exec "$0" "$1" "$2"',
        process.execPath,
        script,
        args,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'through relay: pong',
      'from elsewhere: closed',
      'own bind: direct',
      'relay lines: relaying 4567,released 4567',
    ]);
  });
});
