/**
 * The floor under any Node.js hop on this machine: a line echoed between two bare Node.js processes
 * over a Unix socket (no JSON-RPC, no SSH). A pooled request wakes Node.js processes four times
 * (client, coordinator, agent, coordinator), this echo twice.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeMs } from './harness';

const SERVER = `
const s = require('node:net').createServer((c) => c.on('data', (d) => c.write(d)));
s.listen(process.argv[1], () => process.stdout.write('ready\\n'));
`;

export async function nodeEchoRoundTrips(count: number, warmUp: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vendetta-bench-echo-'));
  const socketPath = join(dir, 'echo.sock');
  const child = spawn(process.execPath, ['-e', SERVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await once(child.stdout, 'data');
    const sock = connect(socketPath);
    await once(sock, 'connect');
    let answered: (() => void) | undefined;
    sock.on('data', () => answered?.());
    const echo = () =>
      new Promise<void>((resolve) => {
        answered = resolve;
        sock.write('ping\n');
      });
    for (let i = 0; i < warmUp; i++) await echo();
    const samples: number[] = [];
    for (let i = 0; i < count; i++) samples.push(await timeMs(echo));
    sock.destroy();
    return samples;
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
