import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AgentError } from '../../../agent/errors';
import { nullLogger } from '../../../common/log/fileLogger';
import { SYNC_HEADER_ENTRY, type SyncTarget } from '../../../agent/protocol';
import { holdInDaemon, parseOpening, serveSyncStream } from '../../../agent/sync/streamServer';
import type { SyncHold } from '../../../agent/sync/hold';
import { tarBuffer, type TarInput } from '../../../common/tar/encode';
import { openReceiver, streamCommand } from '../../../coordinator/sync/receiver';
import type { AgentClient, AgentCommand } from '../../../coordinator/nodes/agentClient';
import { parseReceiverError, parseSummary } from '../../../coordinator/sync/sender';

const header: TarInput = { path: SYNC_HEADER_ENTRY, type: 'file', mode: 0o600, data: JSON.stringify({ delete: [] }) };
const file = (path: string, data: string): TarInput => ({ path, type: 'file', mode: 0o644, data });

describe("the agent daemon's sync socket takes a sync stream as sync-receive does", () => {
  let base: string;
  let root: string;
  let sock: string;
  let server: Server;
  /** What the fake daemon did with the workspace's lock. */
  let holds: Array<{ name: string; released: boolean }>;
  let refuse: AgentError | undefined;
  /** The fake workspace keeps a copy of its folder (QEMU without 9p): what a sync wrote is passed on. */
  let copied: boolean;
  let passedOn: string[][];

  beforeEach(async () => {
    base = mkdtempSync(join(tmpdir(), 'vendetta-syncsock-'));
    root = join(base, 'src');
    mkdirSync(root);
    sock = join(base, 'sync.sock');
    holds = [];
    refuse = undefined;
    copied = false;
    passedOn = [];
    const hold = async (name: string): Promise<SyncHold> => {
      if (refuse) throw refuse;
      const h = { name, released: false };
      holds.push(h);
      return {
        target: { nodeFolder: root, ...(copied ? { copied } : {}) },
        received: async (paths) => void passedOn.push([...paths]),
        release: () => (h.released = true),
      };
    };
    server = createServer({ allowHalfOpen: true }, (s: Socket) => serveSyncStream(s, hold, nullLogger));
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(base, { recursive: true, force: true });
  });

  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ path: sock, allowHalfOpen: true });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });

  /** Sends `tar` as the coordinator does; resolves with the exit code and the answer. */
  async function send(cmd: AgentCommand, tar: Buffer): Promise<{ code: number; out: string }> {
    let out = '';
    cmd.stdout.setEncoding('utf8');
    cmd.stdout.on('data', (d: string) => (out += d));
    await pipeline([tar], cmd.stdin);
    return { code: await cmd.exit, out };
  }

  it('writes the files under the lock, answers the summary line, then lets go of the lock', async () => {
    const r = await send(
      streamCommand(await open(), 'web'),
      tarBuffer([header, file('a.txt', 'hello'), file('d/b.txt', 'x')]),
    );
    assert.equal(r.code, 0);
    assert.deepEqual(parseSummary(r.out), { written: 2, deleted: 0, bytes: 6 });
    assert.equal(readFileSync(join(root, 'a.txt'), 'utf8'), 'hello');
    assert.equal(readFileSync(join(root, 'd', 'b.txt'), 'utf8'), 'x');
    assert.deepEqual(holds, [{ name: 'web', released: true }]);
    assert.deepEqual(passedOn, [], 'a workspace without a copy is told nothing');

    copied = true;
    const again = await send(streamCommand(await open(), 'web'), tarBuffer([header, file('c.txt', 'c')]));
    assert.equal(again.code, 0);
    assert.deepEqual(passedOn, [['c.txt']], 'what the stream wrote is passed on to the copy');
  });

  it('refuses a hostile entry with the receiver error line, writes nothing outside, releases the lock', async () => {
    const r = await send(streamCommand(await open(), 'web'), tarBuffer([header, file('../escape.txt', 'no')]));
    assert.equal(parseSummary(r.out), undefined);
    assert.equal(parseReceiverError(r.out)?.code, 'SYNC_REFUSED');
    assert.ok(!existsSync(join(base, 'escape.txt')));
    assert.deepEqual(holds, [{ name: 'web', released: true }]);
  });

  it('says why when the daemon has no such workspace', async () => {
    refuse = new AgentError('WORKSPACE_NOT_FOUND', 'There is no workspace gone on this node', { hint: 'List them.' });
    const r = await send(streamCommand(await open(), 'gone'), tarBuffer([header, file('a.txt', 'a')]));
    assert.deepEqual(parseReceiverError(r.out), {
      code: 'WORKSPACE_NOT_FOUND',
      message: 'There is no workspace gone on this node',
      hint: 'List them.',
    });
    assert.deepEqual(readdirSync(root), []);
  });

  it('refuses an opening that names no workspace, and one that never ends, without taking a lock', async () => {
    for (const opening of ['{"workspace":"../x"}\n', 'x'.repeat(2000)]) {
      const s = await open();
      s.end(opening);
      let out = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (out += d));
      await new Promise((resolve) => s.once('close', resolve));
      assert.equal(parseReceiverError(out)?.code, 'INVALID_PARAMS', out);
    }
    assert.deepEqual(holds, []);
    assert.equal(parseOpening('{"workspace":"web"}'), 'web');
    assert.ok(parseOpening('not json') instanceof AgentError);
  });

  it('lets go of the lock when the client is cut off mid-stream', async () => {
    const s = await open();
    s.write('{"workspace":"web"}\n');
    const tar = tarBuffer([header, file('big.txt', 'y'.repeat(100_000))]);
    s.write(tar.subarray(0, 2048));
    while (holds.length === 0) await new Promise((r) => setTimeout(r, 10));
    s.destroy();
    for (let i = 0; i < 200 && !holds[0]!.released; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(holds, [{ name: 'web', released: true }]);
  });

  it('takes the lock in the daemon: the hold waits for the operation before it and keeps the next waiting', async () => {
    const order: string[] = [];
    let finishCreate!: () => void;
    const created = new Promise<void>((r) => (finishCreate = r));
    let queue: Promise<unknown> = Promise.resolve();
    const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
      const run = queue.then(fn);
      queue = run.catch(() => undefined);
      return run;
    };
    const target: SyncTarget = { nodeFolder: root };
    const workspaces = {
      syncReceived: async () => undefined,
      holdForSync: (_name: string, released: Promise<void>) =>
        new Promise<SyncTarget>((resolve) => void exclusive(async () => (resolve(target), await released))),
    };
    void exclusive(async () => (await created, order.push('create')));
    const held = holdInDaemon(workspaces, 'web').then((h) => (order.push('hold'), h));
    const after = exclusive(async () => order.push('stop'));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(order, []);
    finishCreate();
    const h = await held;
    assert.deepEqual(h.target, target);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(order, ['create', 'hold']);
    h.release();
    await after;
    assert.deepEqual(order, ['create', 'hold', 'stop']);
  });
});

describe('openReceiver: the sync socket when the agent has one, else sync-receive', () => {
  const command = {} as AgentCommand;
  const client = (syncSocket: string | undefined, socket?: () => Promise<never>) => {
    const ran: string[][] = [];
    const c = {
      connect: async () => ({ syncSocket }),
      runAgentCommand: async (args: string[]) => (ran.push(args), command),
      ...(socket ? { openNodeSocket: socket } : {}),
    } as unknown as AgentClient;
    return { c, ran };
  };

  it('runs sync-receive for an agent without a sync socket, and when the socket cannot be reached', async () => {
    for (const { c, ran } of [
      client(undefined),
      client('/x/sync.sock'),
      client('/x/sync.sock', () => Promise.reject(new Error('AllowStreamLocalForwarding no'))),
    ]) {
      assert.equal(await openReceiver(c, 'web'), command);
      assert.deepEqual(ran, [['sync-receive', 'web']]);
    }
  });
});
