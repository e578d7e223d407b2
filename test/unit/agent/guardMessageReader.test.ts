import assert from 'node:assert/strict';
import type { Message } from 'vscode-jsonrpc';
import { FrameGuard, type FrameViolation } from '../../../agent/daemon/frameGuard';
import { GuardMessageReader } from '../../../agent/daemon/guardMessageReader';

const frame = (body: string): Buffer => Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);

describe('the agent parses each message once (guard → reader)', () => {
  it('hands over parsed messages in order, those sent before listen() too, and counts requests first', async () => {
    const guard = new FrameGuard({ partialTimeoutMs: 0, emitParsed: true });
    const reader = new GuardMessageReader(guard);
    const seen: string[] = [];
    guard.on('request', () => seen.push('request'));
    const a = { jsonrpc: '2.0', id: 1, method: 'agent/ping' };
    const b = { jsonrpc: '2.0', method: 'x/didY', params: { ü: 'ß' } };
    guard.write(frame(JSON.stringify(a)));
    const got: Message[] = [];
    reader.listen((m) => {
      seen.push('message');
      got.push(m);
    });
    const both = frame(JSON.stringify(b));
    guard.write(both.subarray(0, 7));
    guard.write(both.subarray(7));
    assert.deepEqual(got, [a, b]);
    assert.deepEqual(seen, ['request', 'message', 'message']);
  });

  it('reports bad messages as violations, passes no bytes on, and closes when the client ends', async () => {
    const guard = new FrameGuard({ partialTimeoutMs: 0, emitParsed: true });
    const reader = new GuardMessageReader(guard);
    const violations: FrameViolation[] = [];
    guard.on('violation', (v: FrameViolation) => violations.push(v));
    let bytes = 0;
    guard.on('data', (c: Buffer) => (bytes += c.length));
    const got: Message[] = [];
    reader.listen((m) => got.push(m));
    const closed = new Promise<void>((resolve) => reader.onClose(() => resolve()));
    guard.write(frame('{not json'));
    guard.write(frame(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'agent/ping' })));
    guard.end();
    await closed;
    assert.equal(violations.length, 1);
    assert.equal(violations[0]!.kind, 'PARSE_ERROR');
    assert.equal(got.length, 1);
    assert.equal(bytes, 0);
    const errors: Error[] = [];
    reader.onError((e) => errors.push(e));
    guard.emit('error', new Error('boom'));
    assert.equal(errors[0]?.message, 'boom');
  });
});
