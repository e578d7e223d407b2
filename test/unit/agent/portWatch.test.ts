import assert from 'node:assert/strict';
import { nullLogger } from '../../../agent/log/logger';
import type { WorkspaceDetectedPorts } from '../../../agent/protocol';
import type { WorkspaceProvider } from '../../../agent/providers/contract';
import { parseProcNetTcp } from '../../../agent/services/listeners';
import { detectedPorts, PortWatch, type PortWatchTarget } from '../../../agent/workspaces/portWatch';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const HEADER6 =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const line = (sl: number, local: string, state: string) =>
  `   ${sl}: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${100 + sl} 1 0 100 0 0 10 0`;
/** sshd on 0.0.0.0:22, a dev server on 0.0.0.0:8765, vite on 127.0.0.1:5173, an established connection on 8765. */
const TCP = [
  HEADER,
  line(0, '00000000:0016', '0A'),
  line(1, '00000000:223D', '0A'),
  line(2, '0100007F:1435', '0A'),
  line(3, '0200A8C0:223D', '01'),
].join('\n');
/** The same 5173 on ::1 too, and 9229 on :: (reachable from outside). */
const TCP6 = [
  HEADER6,
  line(0, '00000000000000000000000001000000:1435', '0A'),
  line(1, '00000000000000000000000000000000:240D', '0A'),
].join('\n');

describe('the port watch notices ports a dev server opens inside a workspace', () => {
  it('lists each listening port once, in order, without the SSH server, loopback-only when no listener is reachable', () => {
    assert.deepEqual(detectedPorts(parseProcNetTcp(`${TCP}\n${TCP6}\n`)), [
      { port: 5173, loopbackOnly: true },
      { port: 8765, loopbackOnly: false },
      { port: 9229, loopbackOnly: false },
    ]);
    assert.deepEqual(detectedPorts(parseProcNetTcp(`${HEADER}\ngarbage\n`)), []);
    // A port only the agent uses (a VM's control SSH) is not one a user opened.
    assert.deepEqual(
      detectedPorts(parseProcNetTcp(`${TCP}\n${TCP6}\n`), [8765, 9229]).map((p) => p.port),
      [5173],
    );
  });

  describe('polls only while someone listens and tells only changes', () => {
    let text: string;
    let execs: string[][];
    let told: WorkspaceDetectedPorts[];
    let watching: boolean;
    let running: boolean;
    let failExec: boolean;
    const provider = {
      exec: async (_id: string, argv: string[]) => {
        execs.push(argv);
        if (failExec) throw new Error('the container is stopping');
        return { exitCode: 0, stdout: text, stderr: '' };
      },
    } as unknown as WorkspaceProvider;
    const target: PortWatchTarget = { name: 'ws', provider, providerId: 'id' };
    let watch: PortWatch;

    beforeEach(() => {
      text = `${HEADER}\n${line(0, '00000000:0016', '0A')}\n`;
      execs = [];
      told = [];
      watching = true;
      running = true;
      failExec = false;
      watch = new PortWatch({
        logger: nullLogger,
        targets: () => (running ? [target] : []),
        watching: () => watching,
        broadcast: (p) => told.push(p),
      });
    });
    afterEach(() => watch.dispose());

    it('one read per workspace per round; a port that opens and closes is told each time, an unchanged round tells nothing', async () => {
      await watch.tick();
      assert.deepEqual(told, [{ workspace: 'ws', running: true, ports: [] }]);
      assert.deepEqual(execs, [['sh', '-c', 'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; exit 0']]);
      await watch.tick();
      assert.equal(told.length, 1, 'nothing changed, nothing told');
      text = TCP;
      await watch.tick();
      assert.deepEqual(told[1], {
        workspace: 'ws',
        running: true,
        ports: [
          { port: 5173, loopbackOnly: true },
          { port: 8765, loopbackOnly: false },
        ],
      });
      text = `${HEADER}\n`;
      await watch.tick();
      assert.deepEqual(told[2], { workspace: 'ws', running: true, ports: [] });
      assert.equal(execs.length, 4);
    });

    it('no client connected: no exec at all; a stopped workspace is told once as not running', async () => {
      watching = false;
      await watch.tick();
      assert.deepEqual([execs.length, told.length], [0, 0]);
      watching = true;
      await watch.tick();
      running = false;
      await watch.tick();
      await watch.tick();
      assert.deepEqual(told.slice(1), [{ workspace: 'ws', running: false, ports: [] }]);
    });

    it('a read that fails tells nothing; ports/detect reads afresh and clients hear the change too', async () => {
      failExec = true;
      await watch.tick();
      assert.deepEqual(told, []);
      failExec = false;
      text = TCP;
      const now = await watch.detect('ws', target);
      assert.deepEqual(
        now.ports.map((p) => p.port),
        [5173, 8765],
      );
      assert.deepEqual(told, [now]);
      assert.deepEqual(await watch.detect('ws', undefined), { workspace: 'ws', running: false, ports: [] });
      assert.equal(told.length, 2);
      text = 'sh: cat: not found';
      await assert.rejects(watch.detect('ws', target), /no \/proc\/net\/tcp in the workspace/);
    });
  });
});
