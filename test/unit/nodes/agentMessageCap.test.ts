import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestType0 } from 'vscode-jsonrpc';
import { AGENT_PROTOCOL_VERSION, type AgentErrorData } from '../../../agent/protocol';
import type { VendettaError } from '../../../coordinator/errors';
import { LocalAgentClient } from '../../../coordinator/nodes/localAgentClient';
import { nullLog } from './fakes';

/** An agent process (node, stdio, Content-Length JSON-RPC) whose `test/big` answer is 4 MiB. */
const FAKE_AGENT = `
let buf = Buffer.alloc(0);
const send = (m) => { const b = Buffer.from(JSON.stringify(m)); process.stdout.write('Content-Length: ' + b.length + '\\r\\n\\r\\n'); process.stdout.write(b); };
process.stdin.on('data', (c) => {
  buf = Buffer.concat([buf, c]);
  for (;;) {
    const end = buf.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    const len = Number(/Content-Length: (\\d+)/.exec(buf.subarray(0, end).toString())[1]);
    if (buf.length < end + 4 + len) return;
    const m = JSON.parse(buf.subarray(end + 4, end + 4 + len).toString());
    buf = buf.subarray(end + 4 + len);
    if (m.method === 'initialize') send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: ${AGENT_PROTOCOL_VERSION}, agentVersion: 'fake', pid: process.pid } });
    else if (m.method === 'test/big') send({ jsonrpc: '2.0', id: m.id, result: 'x'.repeat(4 * 1024 * 1024) });
    else if (m.method === 'test/small') send({ jsonrpc: '2.0', id: m.id, result: 'pid ' + process.pid });
  }
});
`;

const Big = new RequestType0<string, AgentErrorData>('test/big');
const Small = new RequestType0<string, AgentErrorData>('test/small');

describe('a message from an agent over the coordinator’s size cap', () => {
  let dir: string;
  let client: LocalAgentClient;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-cap-'));
    writeFileSync(join(dir, 'agent.js'), FAKE_AGENT);
    client = new LocalAgentClient({
      nodeName: 'local',
      agentHome: join(dir, 'home'),
      agentBundle: join(dir, 'agent.js'),
      log: nullLog,
      maxMessageBytes: 1024 * 1024,
      backoff: { initialMs: 10, maxMs: 50, factor: 2, jitter: 0 },
    });
  });

  afterEach(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails that request with a clear error, never buffers it, and the next request reconnects', async () => {
    const first = await client.request(Small);
    await assert.rejects(client.request(Big), (e: VendettaError) => {
      assert.equal(e.code, 'AGENT_ERROR');
      assert.equal(e.message, "The agent on local sent a message of 4.0 MiB, over the coordinator's limit of 1.0 MiB");
      assert.match(e.hint ?? '', /memory stays bounded, and reconnects on the next request/);
      return true;
    });
    const after = await client.request(Small);
    assert.match(after, /^pid \d+$/);
    assert.notEqual(after, first, 'a new agent process answered: the link was reopened');
    assert.equal(client.state, 'online');
  });
});
