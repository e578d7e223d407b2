import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import { nudgeAcksWhilePending, returnWindow } from '../../../coordinator/ssh/ackNudge';

/** Just the ssh2 Channel internals the nudge touches. */
function fakeChannel(window = 1000) {
  const adjusts: Array<[number, number]> = [];
  const ch = Object.assign(new EventEmitter(), {
    outgoing: { state: 'open', id: 7 },
    incoming: { window },
    _client: { _protocol: { channelWindowAdjust: (id: number, bytes: number) => adjusts.push([id, bytes]) } },
  });
  return { ch, adjusts, asChannel: ch as unknown as ClientChannel };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the ACK nudge on an agent channel (sshd keeps Nagle on)', () => {
  /**
   * Requests 1..sent, of which those in `pending` are unanswered; `waiting` says whether the
   * reader still lacks an answer's bytes (by default: while any is pending).
   */
  function requests(sent: number, pending: number[]) {
    const r: { sent: number; pending: number[]; waiting?: boolean } = { sent, pending };
    const seq = {
      sent: () => r.sent,
      oldestPending: () => (r.pending.length ? Math.min(...r.pending) : undefined),
      waiting: () => r.waiting ?? r.pending.length > 0,
    };
    return { r, seq };
  }

  it('gives the window back when a request sent before the data is still unanswered shortly after', async () => {
    const f = fakeChannel();
    const { r, seq } = requests(2, [1, 2]);
    nudgeAcksWhilePending(f.asChannel, seq);
    f.ch.incoming.window -= 300; // ssh2 counts received bytes off the window
    f.ch.emit('data', Buffer.alloc(300));
    r.pending = [2]; // the data answered 1; 2 is held up behind it
    f.ch.emit('data', Buffer.alloc(0)); // one check per burst
    await tick(20);
    assert.deepEqual(f.adjusts, [[7, 300]]);
    assert.equal(f.ch.incoming.window, 1000);
    r.pending = [];
    f.ch.incoming.window -= 50;
    f.ch.emit('data', Buffer.alloc(50));
    await tick(20);
    assert.equal(f.adjusts.length, 1, 'nothing due: no extra packet');
  });

  it("does not nudge for a request sent after the data arrived (a busy client's next call)", async () => {
    const f = fakeChannel();
    const { r, seq } = requests(1, [1]);
    nudgeAcksWhilePending(f.asChannel, seq);
    f.ch.incoming.window -= 80;
    f.ch.emit('data', Buffer.alloc(80)); // the answer to 1
    r.pending = [];
    r.sent = 2; // the client's next request, right away
    r.pending = [2];
    await tick(20);
    assert.equal(f.adjusts.length, 0, 'request 2 is not held up by anything we received');
  });

  it("arms nothing when the data brought every answer owed (a lone request's reply)", async () => {
    const f = fakeChannel();
    const { r, seq } = requests(1, [1]);
    nudgeAcksWhilePending(f.asChannel, seq);
    f.ch.incoming.window -= 80;
    // The answer's bytes are read, though the connection has not settled request 1 yet.
    r.waiting = false;
    f.ch.emit('data', Buffer.alloc(80));
    await tick(20);
    assert.equal(f.adjusts.length, 0);
    r.waiting = true; // an answer only partly in: the nudge is due again
    f.ch.incoming.window -= 80;
    f.ch.emit('data', Buffer.alloc(80));
    await tick(20);
    assert.deepEqual(f.adjusts, [[7, 160]]);
  });

  it('sends nothing for a closed channel, a full window, or a channel without the internals', async () => {
    const f = fakeChannel();
    assert.equal(returnWindow(f.ch, 1000), false, 'the window is full');
    f.ch.incoming.window = 10;
    f.ch.outgoing.state = 'closed';
    assert.equal(returnWindow(f.ch, 1000), false);
    assert.equal(returnWindow({}, 1000), false);
    const bare = new EventEmitter() as unknown as ClientChannel;
    nudgeAcksWhilePending(bare, { sent: () => 1, oldestPending: () => 1, waiting: () => true });
    assert.equal(bare.listenerCount('data'), 0, 'left alone');
    const g = fakeChannel();
    nudgeAcksWhilePending(g.asChannel, { sent: () => 1, oldestPending: () => 1, waiting: () => true });
    g.ch.incoming.window -= 5;
    g.ch.emit('data', Buffer.alloc(5));
    g.ch.emit('close');
    await tick(20);
    assert.equal(g.adjusts.length, 0, 'the timer died with the channel');
  });
});
