import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { StreamMessageReader, type Message } from 'vscode-jsonrpc/node';
import { FrameWriter, frameMessage } from '../../../common/rpc/frameWriter';

const ping = { jsonrpc: '2.0', id: 1, method: 'agent/ping' } as Message;

describe('JSON-RPC messages leave in one write', () => {
  it('one write per message, header and body together, read back whole by vscode-jsonrpc', async () => {
    const chunks: Buffer[] = [];
    const out = new PassThrough();
    out.on('data', (c: Buffer) => chunks.push(c));
    const w = new FrameWriter(out);
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

  it('a closed stream refuses, and its close and errors reach the connection', async () => {
    const out = new Writable({ write: (_c, _e, cb) => cb(new Error('broken pipe')) });
    const w = new FrameWriter(out);
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
    await assert.rejects(
      new FrameWriter(new PassThrough()).write({ jsonrpc: '2.0', method: 'x', params: cyclic } as Message),
      /circular/i,
    );
    w.end();
  });

  it('refuses to queue more for a peer that leaves too much unread, and says so', async () => {
    const out = new Writable({ highWaterMark: 1, write: () => undefined }); // never finishes a write
    const told: number[] = [];
    const w = new FrameWriter(out, { maxBacklogBytes: 100, onBacklog: (q) => told.push(q) });
    void w.write({ jsonrpc: '2.0', method: 'n', params: { pad: 'x'.repeat(200) } } as Message);
    await assert.rejects(w.write(ping), /left more than 100 bytes unread/);
    assert.equal(told.length, 1);
    assert.ok(told[0]! > 100);
  });

  it('frames the byte length, not the character count', () => {
    const f = frameMessage({ jsonrpc: '2.0', method: 'é' } as Message);
    const [header, body] = f.toString('utf8').split('\r\n\r\n');
    assert.equal(Number(header!.split(': ')[1]), Buffer.byteLength(body!, 'utf8'));
  });
});
