import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VendettaError } from '../../../coordinator/errors';
import { FileLogger, logLevelFrom } from '../../../common/log/fileLogger';

describe('the coordinator log', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON object per line, errors with their code and cause chain', () => {
    const log = new FileLogger(join(dir, 'logs', 'coordinator.log'), { createDir: true });
    log.info('hello', { node: 'b1' });
    log.error('failed', { err: new VendettaError('NODE_UNREACHABLE', 'outer', { cause: new Error('inner') }) });
    log.close();
    const file = join(dir, 'logs', 'coordinator.log');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'logs')).mode & 0o777, 0o700);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines[0].msg, 'hello');
    assert.equal(lines[0].level, 'info');
    assert.equal(lines[0].node, 'b1');
    assert.ok(Date.parse(lines[0].time));
    assert.equal(lines[1].err.code, 'NODE_UNREACHABLE');
    assert.deepEqual(lines[1].err.causes, ['inner']);
  });

  it('rotates by size and keeps a bounded number of old files', () => {
    const log = new FileLogger(join(dir, 'coordinator.log'), { maxBytes: 1000, keep: 2 });
    for (let i = 0; i < 100; i++) log.info(`line ${i}`, { pad: 'x'.repeat(50) });
    log.close();
    const live = join(dir, 'coordinator.log');
    assert.ok(statSync(live).size <= 1000);
    assert.ok(existsSync(`${live}.1`) && existsSync(`${live}.2`));
    assert.equal(existsSync(`${live}.3`), false);
    assert.match(readFileSync(live, 'utf8'), /line 99/);
    assert.ok(statSync(`${live}.1`).size <= 1000);
  });

  it('drops levels below the threshold', () => {
    const log = new FileLogger(join(dir, 'coordinator.log'), { level: 'warn' });
    log.debug('noise');
    log.warn('kept');
    log.close();
    assert.deepEqual(
      readFileSync(join(dir, 'coordinator.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg),
      ['kept'],
    );
  });

  it('takes its level from VENDETTA_LOG_LEVEL, info when unset or unknown', () => {
    assert.equal(logLevelFrom(undefined), 'info');
    assert.equal(logLevelFrom('debug'), 'debug');
    assert.equal(logLevelFrom('error'), 'error');
    assert.equal(logLevelFrom('verbose'), 'info');
    assert.equal(logLevelFrom('__proto__'), 'info');
  });
});
