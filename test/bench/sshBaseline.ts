/** OpenSSH baselines measured beside our figures in the same run. */
import { spawn, spawnSync } from 'node:child_process';
import type { TestNode } from '../infra/nodes';
import { timeMs } from './harness';

export function sshArgs(node: TestNode, knownHosts: string): string[] {
  return [
    '-i',
    node.identity,
    '-p',
    String(node.port),
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=accept-new',
    '-o',
    'IdentitiesOnly=yes',
    `${node.user}@${node.host}`,
  ];
}

/** `ssh -i key node true`: one cold connect, handshake, auth and exec, in ms. */
export function sshColdTrue(node: TestNode, knownHosts: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ssh', [...sshArgs(node, knownHosts), 'true'], { stdio: 'pipe' });
  if (r.status !== 0) throw new Error(`ssh ${node.host} true failed: ${r.stderr.toString()}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Round trips of one line echoed by `cat` through an already-open OpenSSH session, in ms each. */
export async function sshEchoRoundTrips(
  node: TestNode,
  knownHosts: string,
  count: number,
  warmUp = 1,
): Promise<number[]> {
  const child = spawn('ssh', [...sshArgs(node, knownHosts), 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let pending: ((chunk: string) => void) | undefined;
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buffered += d;
    const nl = buffered.indexOf('\n');
    if (nl >= 0 && pending) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const p = pending;
      pending = undefined;
      p(line);
    }
  });
  const echo = (line: string) =>
    new Promise<string>((resolve) => {
      pending = resolve;
      child.stdin.write(line + '\n');
    });
  try {
    // The connect is not part of the figure; nor is the JIT of this side's line handling.
    for (let i = 0; i < Math.max(1, warmUp); i++) await echo(`warm-up ${i}`);
    const samples: number[] = [];
    for (let i = 0; i < count; i++) samples.push(await timeMs(() => echo(`ping ${i}`)));
    return samples;
  } finally {
    child.stdin.end();
    child.kill();
  }
}
