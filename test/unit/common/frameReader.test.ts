import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { StreamMessageWriter, type Message } from 'vscode-jsonrpc/node';
import {
  FrameError,
  FrameReader,
  FRAME_LIMITS,
  type FrameReaderOptions,
  type FrameViolation,
} from '../../../common/rpc/frameReader';
import { frameMessage } from '../../../common/rpc/frameWriter';

const ping = { jsonrpc: '2.0', id: 1, method: 'agent/ping' } as Message;
const frame = (body: string): Buffer =>
  Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);

interface Read {
  got: Message[];
  violations: FrameViolation[];
  errors: Error[];
  closed: number;
  reader: FrameReader;
  input: PassThrough;
}

/** Feeds chunks synchronously: each message is handed over while its last chunk is read. */
function read(chunks: Array<Buffer | string>, opts: FrameReaderOptions = {}): Read {
  const input = new PassThrough();
  const r: Read = {
    got: [],
    violations: [],
    errors: [],
    closed: 0,
    input,
    reader: undefined as unknown as FrameReader,
  };
  r.reader = new FrameReader(input, {
    limits: { partialTimeoutMs: 0 },
    onViolation: (v) => r.violations.push(v),
    ...opts,
  });
  r.reader.onError((e) => r.errors.push(e));
  r.reader.onClose(() => r.closed++);
  r.reader.listen((m) => r.got.push(m));
  for (const c of chunks) input.emit('data', typeof c === 'string' ? Buffer.from(c) : c);
  return r;
}

describe('one JSON-RPC frame reader for every connection', () => {
  const msgs = [
    ping,
    { jsonrpc: '2.0', id: 2, result: { text: 'ünïcødé ✓ '.repeat(50) } },
    { jsonrpc: '2.0', method: 'n', params: {} },
  ] as Message[];
  const wire = Buffer.concat(msgs.map((m) => frameMessage(m)));

  it('reads messages split at every byte, and several in one chunk', () => {
    for (let cut = 1; cut < wire.length; cut++) {
      const r = read([wire.subarray(0, cut), wire.subarray(cut)]);
      assert.deepEqual(r.violations, [], `cut at ${cut}`);
      assert.deepEqual(r.got, msgs, `cut at ${cut}`);
      assert.equal(r.reader.midMessage, false);
    }
    assert.deepEqual(read([...wire].map((b) => Buffer.from([b]))).got, msgs);
  });

  it('says when it holds part of a message', () => {
    assert.equal(read([wire.subarray(0, 5)]).reader.midMessage, true);
    const headerOnly = read([wire.subarray(0, wire.indexOf('\r\n\r\n') + 4)]);
    assert.equal(headerOnly.reader.midMessage, true);
    assert.deepEqual(headerOnly.got, []);
  });

  it('reads what vscode-jsonrpc writes (any header order and case, a Content-Type)', async () => {
    const body = JSON.stringify(ping);
    assert.deepEqual(
      read([`content-type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH: ${body.length}\r\n\r\n${body}`])
        .got,
      [ping],
    );
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const w = new StreamMessageWriter(out);
    for (const m of msgs) await w.write(m);
    assert.deepEqual(read(chunks).got, msgs);
  });

  it('shows each valid message to its owner first, saying whether it is a request', () => {
    const seen: string[] = [];
    const r = read([wire], { observe: (m, isRequest) => seen.push(`${'id' in m ? String(m.id) : '-'}:${isRequest}`) });
    assert.deepEqual(seen, ['1:true', '2:false', '-:false']);
    assert.equal(r.got.length, 3);
  });

  it('refuses bytes that are not a header at once, without waiting for more, and reads no further', () => {
    for (const garbage of [
      'hello garbage',
      '{"jsonrpc":"2.0"}',
      'GET / HTTP/1.1\r\n',
      '\x00\x01\x02',
      '\r\n\r\n',
      'garbage without colon\r\n\r\n{}',
    ]) {
      const r = read([garbage, frameMessage(ping)]);
      assert.equal(r.violations.length, 1, JSON.stringify(garbage));
      assert.deepEqual(
        { ...r.violations[0]!, message: '' },
        { fatal: true, kind: 'PARSE_ERROR', id: null, message: '' },
      );
      assert.match(r.violations[0]!.message, /expected a `Content-Length: N` header/);
      assert.deepEqual(r.got, []);
      assert.equal(r.reader.midMessage, false, 'nothing held');
    }
  });

  it('refuses a header without a usable Content-Length, over the header limit, or announcing too much', () => {
    assert.match(read(['Content-Type: x\r\n\r\n{}']).violations[0]!.message, /no Content-Length/);
    for (const n of ['lots', '12abc', '-1', '99999999999999999999'])
      assert.match(read([`Content-Length: ${n}\r\n\r\n{}`]).violations[0]!.message, /must be a number/, n);
    const big = read(['Content-Length: 999999999\r\n\r\n'], { limits: { maxBodyBytes: 1000, partialTimeoutMs: 0 } });
    assert.match(big.violations[0]!.message, /a message of 999999999 bytes is larger than the limit of 1000/);
    assert.deepEqual(big.violations[0]!.tooLarge, { bytes: 999999999, limit: 1000 });
    const long = read(['X-Long: ' + 'a'.repeat(100)], { limits: { maxHeaderBytes: 50, partialTimeoutMs: 0 } });
    assert.match(long.violations[0]!.message, /longer than 50 bytes/);
    const defaultCap = read([Buffer.from('X-Long: ' + 'a'.repeat(FRAME_LIMITS.maxHeaderBytes))]);
    assert.match(defaultCap.violations[0]!.message, new RegExp(`longer than ${FRAME_LIMITS.maxHeaderBytes} bytes`));
  });

  it('answers bad JSON and non-JSON-RPC in a good frame, and reads on', () => {
    const r = read([
      frame('{"jsonrpc": "2.0", "id": 1, "meth'),
      frame(''),
      frame('{"id": 9, "method": "agent/ping"}'),
      frameMessage(ping),
    ]);
    assert.deepEqual(
      r.violations.map((v) => ({ ...v, message: '' })),
      [
        { fatal: false, kind: 'PARSE_ERROR', id: null, message: '' },
        { fatal: false, kind: 'PARSE_ERROR', id: null, message: '' },
        { fatal: false, kind: 'INVALID_REQUEST', id: 9, message: '' },
      ],
    );
    assert.match(r.violations[0]!.message, /not valid JSON/);
    assert.deepEqual(r.got, [ping]);
  });

  it('without an owner that answers, passes each violation on as a reader error', () => {
    const r = read([frame('{nope'), frameMessage(ping), 'Content-Length: x\r\n\r\n', frameMessage(ping)], {
      onViolation: undefined,
    });
    assert.equal(r.errors.length, 2);
    assert.ok(r.errors.every((e) => e instanceof FrameError));
    assert.deepEqual(
      r.errors.map((e) => (e as FrameError).violation.fatal),
      [false, true],
    );
    assert.deepEqual(r.got, [ping]);
  });

  it('reports a stream that ends in the middle of a message, then closes once', () => {
    const r = read(['Content-Length: 100\r\n\r\n{"jsonrpc":']);
    r.input.emit('end');
    r.input.emit('close');
    assert.equal(r.violations.length, 1);
    assert.equal(r.violations[0]!.fatal, true);
    assert.match(r.violations[0]!.message, /ended in the middle of a message \(received 11 of 100 bytes/);
    assert.equal(r.closed, 1);
    const header = read(['Content-Len']);
    header.input.emit('end');
    assert.match(header.violations[0]!.message, /part of a header/);
    const clean = read([frameMessage(ping)]);
    clean.input.emit('end');
    assert.deepEqual(clean.violations, []);
    assert.equal(clean.closed, 1);
  });

  it('gives up on a message that stalls, but not on one that keeps arriving slowly', async () => {
    const r = read(['Content-Length: 10\r\n\r\n{"a"'], { limits: { partialTimeoutMs: 60 } });
    await new Promise((res) => setTimeout(res, 140));
    assert.equal(r.violations.length, 1);
    assert.match(r.violations[0]!.message, /stayed incomplete for 0.06 s \(received 4 of 10 bytes/);
    assert.equal(r.reader.midMessage, false);

    const body = JSON.stringify(ping);
    const slow = read([`Content-Length: ${body.length}\r\n\r\n`], { limits: { partialTimeoutMs: 60 } });
    for (const ch of body) {
      await new Promise((res) => setTimeout(res, 5));
      slow.input.emit('data', Buffer.from(ch));
    }
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(slow.violations, []);
    assert.deepEqual(slow.got, [ping]);
  });

  it('passes on the stream failing, and stops listening when disposed', () => {
    const input = new PassThrough();
    const reader = new FrameReader(input);
    const errors: Error[] = [];
    reader.onError((e) => errors.push(e));
    const got: Message[] = [];
    const listening = reader.listen((m) => got.push(m));
    input.emit('error', new Error('reset'));
    assert.match(errors[0]!.message, /reset/);
    listening.dispose();
    input.emit('data', frameMessage(ping));
    assert.deepEqual(got, []);
  });
});
