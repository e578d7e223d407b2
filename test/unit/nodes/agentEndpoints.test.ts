import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentEndpoints, endpointKey, validEndpoint } from '../../../coordinator/nodes/agentEndpoints';

describe('remembered agent endpoints (state/agent-endpoints.json)', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-endpoints-'));
    file = join(dir, 'state', 'agent-endpoints.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const good = {
    socket: '/home/u/.vendetta-agent/agent.sock',
    buildId: 'abc123def456',
    execPath: '/usr/bin/node',
    script: '/home/u/.vendetta-agent/0.1.0-abc123def456/agent.js',
  };

  it('keeps one endpoint per user@host:port, forgets on request, and leaves an unchanged file alone', () => {
    const e = new AgentEndpoints(file);
    assert.equal(e.get('u@h:22'), undefined, 'no file yet');
    const key = endpointKey({ user: 'u', host: 'h', port: 2222 });
    assert.equal(key, 'u@h:2222');
    e.set(key, good);
    assert.deepEqual(new AgentEndpoints(file).get(key), good);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const before = statSync(file).mtimeMs;
    const text = readFileSync(file, 'utf8');
    e.set(key, { ...good });
    assert.equal(readFileSync(file, 'utf8'), text);
    assert.equal(statSync(file).mtimeMs, before, 'not rewritten');
    e.set(key, undefined);
    assert.equal(e.get(key), undefined);
  });

  it('ignores a file that is not JSON or not an object, and entries that are malformed', () => {
    const e = new AgentEndpoints(file);
    e.set('a', good);
    writeFileSync(file, 'not json');
    assert.equal(e.get('a'), undefined);
    writeFileSync(file, '[1,2]');
    assert.equal(e.get('a'), undefined);
    writeFileSync(file, JSON.stringify({ a: { ...good, socket: 'relative/agent.sock' } }));
    assert.equal(e.get('a'), undefined);
    e.set('b', good);
    assert.deepEqual(e.get('b'), good, 'a broken file is replaced on the next write');
  });

  it('accepts only absolute socket paths a Unix socket can have, and build ids of letters and digits', () => {
    assert.deepEqual(validEndpoint(good), good);
    assert.equal(validEndpoint(null), undefined);
    assert.equal(validEndpoint('x'), undefined);
    assert.equal(validEndpoint({ ...good, socket: `/${'a'.repeat(120)}` }), undefined, 'too long for sun_path');
    assert.equal(validEndpoint({ ...good, socket: '/a\0b' }), undefined);
    assert.equal(validEndpoint({ ...good, buildId: '../x' }), undefined);
    assert.equal(validEndpoint({ ...good, buildId: 7 }), undefined);
    assert.deepEqual(
      validEndpoint({ ...good, script: 'agent.js' }),
      { socket: good.socket, buildId: good.buildId },
      'a runtime without both absolute paths is dropped',
    );
  });
});
