import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentHome, agentPaths, ensureAgentHome } from '../../../agent/home';
import { FileLogger } from '../../../agent/log/logger';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../../../common/fs/atomicWrite';
import { AgentError } from '../../../agent/errors';

describe('the agent home and the files in it', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-agent-home-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lives in $VENDETTA_AGENT_HOME, else ~/.vendetta-agent', () => {
    assert.equal(agentHome({ VENDETTA_AGENT_HOME: '/srv/agent' }), '/srv/agent');
    assert.equal(agentHome({}), join(homedir(), '.vendetta-agent'));
    assert.equal(agentHome({ VENDETTA_AGENT_HOME: '' }), join(homedir(), '.vendetta-agent'));
    const p = agentPaths('/h');
    assert.deepEqual(
      [p.socket, p.pidFile, p.log, p.state],
      ['/h/agent.sock', '/h/daemon.pid', '/h/logs/agent.log', '/h/state'],
    );
  });

  it('is created private, and a too-open one is tightened', () => {
    const home = join(dir, 'a');
    mkdirSync(home, { mode: 0o755 });
    ensureAgentHome(agentPaths(home));
    assert.equal(statSync(home).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, 'logs')).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, 'state')).mode & 0o777, 0o700);
  });

  it('refuses a home whose socket path a Unix socket cannot hold', () => {
    assert.throws(
      () => ensureAgentHome(agentPaths(join(dir, 'x'.repeat(120)))),
      (e: unknown) => e instanceof AgentError && /too long/.test(e.message) && /VENDETTA_AGENT_HOME/.test(e.hint!),
    );
  });

  it('reports a home it cannot create', () => {
    writeFileSync(join(dir, 'file'), '');
    assert.throws(
      () => ensureAgentHome(agentPaths(join(dir, 'file', 'sub'))),
      (e: unknown) => e instanceof AgentError && /Cannot create the agent home/.test(e.message),
    );
  });

  it('writes state atomically: full content, private, no temp files left', () => {
    const target = join(dir, 'state.json');
    writeJsonAtomicSync(target, { a: 1 });
    writeFileAtomicSync(target, Buffer.from('{"a":2}'));
    assert.equal(readFileSync(target, 'utf8'), '{"a":2}');
    assert.equal(statSync(target).mode & 0o777, 0o600);
    writeJsonAtomicSync(join(dir, 'pub.json'), [1], { mode: 0o644 });
    assert.equal(statSync(join(dir, 'pub.json')).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(dir).sort(), ['pub.json', 'state.json']);
    assert.throws(() => writeFileAtomicSync(join(dir, 'missing', 'x'), 'y'), /ENOENT/);
    assert.throws(() => writeFileAtomicSync(join(dir), 'y'), /EISDIR|EEXIST|ENOTEMPTY/);
    assert.deepEqual(readdirSync(dir).sort(), ['pub.json', 'state.json']);
  });

  it('logs JSON lines and rotates them by size', () => {
    const file = join(dir, 'agent.log');
    const log = new FileLogger(file, { maxBytes: 400, keep: 2, base: { role: 'test' } });
    log.debug('hidden at info level');
    log.info('hello', { n: 1, err: new Error('outer', { cause: new Error('inner') }) });
    const first = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!);
    assert.equal(first.msg, 'hello');
    assert.equal(first.role, 'test');
    assert.equal(first.level, 'info');
    assert.equal(first.pid, process.pid);
    assert.deepEqual([first.err.message, first.err.causes], ['outer', ['inner']]);
    for (let i = 0; i < 30; i++) log.warn('line', { i });
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ['agent.log', 'agent.log.1', 'agent.log.2']);
    for (const f of files) {
      assert.ok(statSync(join(dir, f)).size <= 400, f);
      for (const line of readFileSync(join(dir, f), 'utf8').trim().split('\n')) JSON.parse(line);
    }
    const last = readFileSync(file, 'utf8').trim().split('\n').pop()!;
    assert.equal(JSON.parse(last).i, 29);
  });
});
