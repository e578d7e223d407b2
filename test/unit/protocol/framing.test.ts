import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { StreamMessageReader, StreamMessageWriter, type Message } from 'vscode-jsonrpc/node';
import { FrameWriter as AgentFrameWriter } from '../../../agent/daemon/frameWriter';
import { FrameReader, FrameWriter, frameMessage, MAX_HEADER_BYTES } from '../../../coordinator/protocol/framing';

const ping = { jsonrpc: '2.0', id: 1, method: 'agent/ping' } as Message;

describe('JSON-RPC messages leave in one write', () => {
  for (const [who, Writer] of [['coordinator', FrameWriter], ['agent', AgentFrameWriter]] as const) {
    it(`${who}: one write per message, header and body together, read back whole`, async () => {
      const chunks: Buffer[] = [];
      const out = new PassThrough();
      out.on('data', (c: Buffer) => chunks.push(c));
      const w = new Writer(out);
      const utf8 = { jsonrpc: '2.0', method: 'log', params: { message: 'ünïcødé ✓' } } as Message;
      await w.write(ping);
      await w.write(utf8);
      assert.equal(chunks.length, 2, 'one chunk per message');
      assert.match(chunks[0]!.toString('latin1'), /^Content-Length: \d+\r\n\r\n\{/);
      const reader = new StreamMessageReader(new PassThrough().end(Buffer.concat(chunks)));
      const got: Message[] = [];
      reader.listen((m) => got.push(m));
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got, [ping, utf8]);
    });

    it(`${who}: a closed stream refuses, and its close and errors reach the connection`, async () => {
      const out = new Writable({ write: (_c, _e, cb) => cb(new Error('broken pipe')) });
      const w = new Writer(out);
      const errors: Error[] = [];
      let closed = false;
      w.onError(([e]) => errors.push(e));
      w.onClose(() => (closed = true));
      await assert.rejects(w.write(ping), /broken pipe/);
      await new Promise((r) => setImmediate(r));
      assert.ok(errors.some((e) => /broken pipe/.test(e.message)));
      out.destroy();
      await new Promise((r) => setImmediate(r));
      assert.ok(closed);
      await assert.rejects(w.write(ping), /closed/);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await assert.rejects(new Writer(new PassThrough()).write({ jsonrpc: '2.0', method: 'x', params: cyclic } as Message), /circular/i);
      w.end();
    });
  }

  it('frames the byte length, not the character count', () => {
    const f = frameMessage({ jsonrpc: '2.0', method: 'é' } as Message);
    const [header, body] = f.toString('utf8').split('\r\n\r\n');
    assert.equal(Number(header!.split(': ')[1]), Buffer.byteLength(body!, 'utf8'));
  });
});

describe('FrameReader', () => {
  const msgs = [ping, { jsonrpc: '2.0', id: 2, result: { text: 'ünïcødé ✓ '.repeat(50) } }, { jsonrpc: '2.0', method: 'n', params: {} }] as Message[];
  const wire = Buffer.concat(msgs.map((m) => frameMessage(m)));

  function read(chunks: Buffer[]): { got: Message[]; errors: Error[]; reader: FrameReader } {
    const input = new PassThrough();
    const reader = new FrameReader(input);
    const got: Message[] = [];
    const errors: Error[] = [];
    reader.onError((e) => errors.push(e));
    reader.listen((m) => got.push(m));
    // Synchronous delivery: each message is handed over while its last chunk is being read.
    for (const c of chunks) input.emit('data', c);
    return { got, errors, reader };
  }

  it('reads messages split at every byte, and several in one chunk', () => {
    for (let cut = 1; cut < wire.length; cut++) {
      const { got, errors, reader } = read([wire.subarray(0, cut), wire.subarray(cut)]);
      assert.deepEqual(errors, [], `cut at ${cut}`);
      assert.deepEqual(got, msgs, `cut at ${cut}`);
      assert.equal(reader.midMessage, false);
    }
    const bytewise = read([...wire].map((b) => Buffer.from([b])));
    assert.deepEqual(bytewise.got, msgs);
  });

  it('says when it holds part of a message', () => {
    const half = read([wire.subarray(0, 5)]);
    assert.equal(half.reader.midMessage, true);
    const headerOnly = read([wire.subarray(0, wire.indexOf('\r\n\r\n') + 4)]);
    assert.equal(headerOnly.reader.midMessage, true);
    assert.deepEqual(headerOnly.got, []);
  });

  it('reads what vscode-jsonrpc writes (any header order and case, a Content-Type)', async () => {
    const body = JSON.stringify(ping);
    const { got } = read([Buffer.from(`content-type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH: ${body.length}\r\n\r\n${body}`)]);
    assert.deepEqual(got, [ping]);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const w = new StreamMessageWriter(out);
    for (const m of msgs) await w.write(m);
    assert.deepEqual(read(chunks).got, msgs);
  });

  it('reports a broken header once and reads no further', () => {
    for (const [bytes, why] of [
      ['Content-Type: x\r\n\r\n{}', /must provide a Content-Length/],
      ['garbage without colon\r\n\r\n{}', /separate key and value/],
      ['Content-Length: 12abc\r\n\r\n{}', /must be a number/],
      ['Content-Length: -1\r\n\r\n{}', /must be a number/],
      ['Content-Length: 99999999999999999999\r\n\r\n{}', /must be a number/],
    ] as const) {
      const { got, errors } = read([Buffer.from(bytes), frameMessage(ping)]);
      assert.equal(errors.length, 1, bytes);
      assert.match(errors[0]!.message, why);
      assert.deepEqual(got, []);
    }
  });

  it('gives up on bytes that never end a header', () => {
    const { got, errors, reader } = read([Buffer.alloc(MAX_HEADER_BYTES + 1, 'x'), Buffer.from('x\r\n\r\n'), frameMessage(ping)]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /No end of a message header/);
    assert.deepEqual(got, []);
    assert.equal(reader.midMessage, false, 'nothing held');
  });

  it('reports a body that is not JSON and goes on with the next message', () => {
    const { got, errors } = read([Buffer.from('Content-Length: 5\r\n\r\n{nope'), frameMessage(ping)]);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof SyntaxError);
    assert.deepEqual(got, [ping]);
  });

  it('passes on the stream closing and failing, and stops listening when disposed', () => {
    const input = new PassThrough();
    const reader = new FrameReader(input);
    let closed = 0;
    const errors: Error[] = [];
    reader.onClose(() => closed++);
    reader.onError((e) => errors.push(e));
    const got: Message[] = [];
    const listening = reader.listen((m) => got.push(m));
    input.emit('error', new Error('reset'));
    input.emit('close');
    assert.equal(closed, 1);
    assert.match(errors[0]!.message, /reset/);
    listening.dispose();
    input.emit('data', frameMessage(ping));
    assert.deepEqual(got, []);
  });
});
