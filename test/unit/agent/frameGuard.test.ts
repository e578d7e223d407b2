import assert from 'node:assert/strict';
import { checkMessage, contentLength, FrameGuard, type FrameViolation } from '../../../agent/daemon/frameGuard';

const frame = (body: string): Buffer => Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);
const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent/ping' });

/** Feeds chunks, then optionally ends; returns what passed and what was refused. */
async function feed(chunks: Array<Buffer | string>, opts: { end?: boolean; guard?: FrameGuard } = {}): Promise<{ out: string; violations: FrameViolation[] }> {
  const guard = opts.guard ?? new FrameGuard({ partialTimeoutMs: 0 });
  const violations: FrameViolation[] = [];
  const out: Buffer[] = [];
  guard.on('violation', (v: FrameViolation) => violations.push(v));
  guard.on('data', (c: Buffer) => out.push(c));
  for (const c of chunks) guard.write(typeof c === 'string' ? Buffer.from(c) : c);
  if (opts.end !== false) {
    await new Promise<void>((resolve) => {
      guard.on('end', resolve);
      guard.end();
    });
  } else {
    await new Promise((r) => setImmediate(r));
  }
  return { out: Buffer.concat(out).toString(), violations };
}

describe('the agent lets only well-framed JSON-RPC through', () => {
  it('passes valid messages, even split byte by byte or several in one chunk', async () => {
    const two = Buffer.concat([frame(ping), frame(JSON.stringify({ jsonrpc: '2.0', method: 'x/did', params: {} }))]);
    const whole = await feed([two]);
    assert.deepEqual(whole.violations, []);
    assert.equal(whole.out, two.toString());
    const bytes = await feed([...two].map((b) => Buffer.from([b])));
    assert.equal(bytes.out, two.toString());
  });

  it('passes multi-byte UTF-8 bodies and extra headers', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 'é', method: 'agent/ping', params: { s: 'ünïcødé ✔' } });
    const r = await feed([`Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`]);
    assert.deepEqual(r.violations, []);
    assert.equal(r.out, frame(body).toString());
  });

  it('refuses bytes that are not a header at once, without waiting for more', async () => {
    for (const garbage of ['hello garbage', '{"jsonrpc":"2.0"}', 'GET / HTTP/1.1\r\n', '\x00\x01\x02', '\r\n\r\n']) {
      const r = await feed([garbage], { end: false });
      assert.equal(r.violations.length, 1, JSON.stringify(garbage));
      assert.equal(r.violations[0]!.fatal, true);
      assert.equal(r.violations[0]!.kind, 'PARSE_ERROR');
      assert.equal(r.out, '');
    }
  });

  it('refuses a header without a usable Content-Length', async () => {
    const none = await feed(['Content-Type: x\r\n\r\n{}']);
    assert.match(none.violations[0]!.message, /no Content-Length/);
    const nan = await feed(['Content-Length: lots\r\n\r\n']);
    assert.match(nan.violations[0]!.message, /must be a number/);
    const big = await feed(['Content-Length: 999999999\r\n\r\n'], { guard: new FrameGuard({ maxBodyBytes: 1000, partialTimeoutMs: 0 }) });
    assert.match(big.violations[0]!.message, /larger than the limit/);
    const long = await feed(['X-Long: ' + 'a'.repeat(100)], { end: false, guard: new FrameGuard({ maxHeaderBytes: 50, partialTimeoutMs: 0 }) });
    assert.match(long.violations[0]!.message, /longer than 50 bytes/);
  });

  it('reports a stream that ends in the middle of a message', async () => {
    const r = await feed(['Content-Length: 100\r\n\r\n{"jsonrpc":']);
    assert.equal(r.violations.length, 1);
    assert.equal(r.violations[0]!.fatal, true);
    assert.match(r.violations[0]!.message, /ended in the middle of a message \(received 11 of 100 bytes/);
    const header = await feed(['Content-Len']);
    assert.match(header.violations[0]!.message, /part of a header/);
  });

  it('gives up on a message that stalls', async () => {
    const guard = new FrameGuard({ partialTimeoutMs: 30 });
    const violations: FrameViolation[] = [];
    guard.on('violation', (v: FrameViolation) => violations.push(v));
    guard.resume();
    guard.write(Buffer.from('Content-Length: 10\r\n\r\n{"a"'));
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(violations.length, 1);
    assert.match(violations[0]!.message, /stayed incomplete for 0.03 s \(received 4 of 10 bytes\)/);
    guard.destroy();
  });

  it('answers bad JSON in a good frame and keeps reading', async () => {
    const r = await feed([frame('{"jsonrpc": "2.0", "id": 1, "meth'), frame(ping)]);
    assert.equal(r.violations.length, 1);
    assert.deepEqual({ ...r.violations[0]!, message: '' }, { fatal: false, kind: 'PARSE_ERROR', id: null, message: '' });
    assert.equal(r.out, frame(ping).toString());
  });

  it('tells JSON that is not JSON-RPC apart, with the id when there is one', () => {
    assert.deepEqual(checkMessage(Buffer.from(ping)), { ok: true, request: true });
    assert.deepEqual(checkMessage(Buffer.from('{"jsonrpc":"2.0","method":"x/didY"}')), { ok: true, request: false });
    assert.deepEqual(checkMessage(Buffer.from('{"jsonrpc":"2.0","id":3,"result":null}')), { ok: true, request: false });
    const cases: Array<[string, RegExp, string | number | null]> = [
      ['[1,2]', /batch/, null],
      ['42', /JSON number/, null],
      ['null', /JSON null/, null],
      ['{"id":7,"method":"agent/ping"}', /"jsonrpc": "2.0"/, 7],
      ['{"jsonrpc":"2.0","id":"a"}', /request, a notification or a response/, 'a'],
      ['{"jsonrpc":"2.0","id":{},"method":"m"}', /id must be a string or a number/, null],
      ['{"jsonrpc":"2.0","id":4,"method":"m","params":"x"}', /params must be an object or an array/, 4],
    ];
    for (const [body, re, id] of cases) {
      const v = checkMessage(Buffer.from(body));
      assert.ok(!v.ok, body);
      assert.equal(v.kind, 'INVALID_REQUEST', body);
      assert.match(v.message, re, body);
      assert.equal(v.id, id, body);
    }
  });

  it('reads Content-Length case-insensitively', () => {
    assert.equal(contentLength('content-length: 12'), 12);
    assert.equal(contentLength('X-A: b\r\nCONTENT-LENGTH:7'), 7);
    assert.equal(contentLength('Content-Length: -1'), 'Content-Length must be a number of bytes, got "-1"');
  });
});
