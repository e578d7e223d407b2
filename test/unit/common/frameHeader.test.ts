import assert from 'node:assert/strict';
import { checkHeaderText, contentLength } from '../../../common/rpc/header';
import { checkMessage } from '../../../common/rpc/validate';

describe('frame headers and JSON-RPC messages are checked one way on every connection', () => {
  it('reads Content-Length case-insensitively, among other headers', () => {
    assert.equal(contentLength('Content-Length: 12'), 12);
    assert.equal(contentLength('content-length: 12'), 12);
    assert.equal(contentLength('X-A: b\r\nCONTENT-LENGTH:7'), 7);
    assert.equal(contentLength('Content-Length: -1'), 'Content-Length must be a number of bytes, got "-1"');
    assert.equal(
      contentLength('Content-Length: 9999999999999'),
      'Content-Length must be a number of bytes, got "9999999999999"',
    );
    assert.equal(contentLength('Content-Type: x'), 'a message header has no Content-Length');
  });

  it('accepts a header cut anywhere, refuses characters no header holds', () => {
    const header = 'Content-Type: application/vscode-jsonrpc\r\nContent-Length: 12';
    for (let cut = 0; cut <= header.length; cut++)
      assert.equal(checkHeaderText(header.slice(0, cut), false), undefined, `cut at ${cut}`);
    assert.equal(checkHeaderText(header, true), undefined);
    for (const bad of ['GET / HTTP/1.1\r\n', 'hello garbage', '{"jsonrpc"', 'X-A: \x00'])
      assert.match(checkHeaderText(bad, false) ?? '', /expected a `Content-Length: N` header/, JSON.stringify(bad));
    assert.match(
      checkHeaderText('Content-Length 12', true) ?? '',
      /expected a `Content-Length: N` header, got "Content-Length 12"/,
    );
  });

  it('tells JSON that is not JSON-RPC apart, with the id when there is one', () => {
    assert.deepEqual(checkMessage({ jsonrpc: '2.0', id: 1, method: 'agent/ping' }), { ok: true, request: true });
    assert.deepEqual(checkMessage({ jsonrpc: '2.0', method: 'x/didY' }), { ok: true, request: false });
    assert.deepEqual(checkMessage({ jsonrpc: '2.0', id: 3, result: null }), { ok: true, request: false });
    assert.deepEqual(checkMessage({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'x' } }), {
      ok: true,
      request: false,
    });
    const cases: Array<[unknown, RegExp, string | number | null]> = [
      [[1, 2], /batch/, null],
      [42, /JSON number/, null],
      [null, /JSON null/, null],
      [{ id: 7, method: 'agent/ping' }, /"jsonrpc": "2.0"/, 7],
      [{ jsonrpc: '2.0', id: 'a' }, /request, a notification or a response/, 'a'],
      [{ jsonrpc: '2.0', id: {}, method: 'm' }, /id must be a string or a number/, null],
      [{ jsonrpc: '2.0', id: null, method: 'm' }, /id must be a string or a number/, null],
      [{ jsonrpc: '2.0', id: 5, method: '' }, /"method" must be a non-empty string/, 5],
      [{ jsonrpc: '2.0', method: 3 }, /"method" must be a non-empty string/, null],
      [{ jsonrpc: '2.0', id: 4, method: 'm', params: 'x' }, /params must be an object or an array/, 4],
      [{ jsonrpc: '2.0', id: 4, method: 'm', params: null }, /params must be an object or an array/, 4],
    ];
    for (const [msg, re, id] of cases) {
      const v = checkMessage(msg);
      assert.ok(!v.ok, JSON.stringify(msg));
      assert.match(v.message, re, JSON.stringify(msg));
      assert.equal(v.id, id, JSON.stringify(msg));
    }
  });
});
