/**
 * Ports published while a VM runs (a dev server started by hand): a `hostfwd_add` through QMP's
 * human-monitor passthrough, the same user-mode forward as the ports fixed at launch. The rules
 * are read back from `info usernet`, so an agent restarted meanwhile finds what a VM already has
 * instead of adding it twice; they end with the QEMU process.
 */
import { AgentError } from '../../errors';
import { nodePortProbe, type PortProbe } from '../../services/ports';
import { qmpOnce, type QmpCall } from './qmp';
import { stopIfCancelled } from './refusals';

const hmp = (commandLine: string): QmpCall => ({
  execute: 'human-monitor-command',
  arguments: { 'command-line': commandLine },
});

export const hostForwardCalls = {
  list: (): QmpCall => hmp('info usernet'),
  add: (nodePort: number, guestPort: number): QmpCall => hmp(`hostfwd_add tcp:127.0.0.1:${nodePort}-:${guestPort}`),
};

/**
 * `info usernet`'s TCP host forwards on the node's loopback, guest port → node port:
 * `TCP[HOST_FORWARD]  15       127.0.0.1 45602       10.0.2.15  8080     0     0`.
 */
export function parseHostForwards(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*TCP\[HOST_FORWARD\]\s+\d+\s+127\.0\.0\.1\s+(\d+)\s+\S+\s+(\d+)\b/.exec(line);
    if (m && !out.has(Number(m[2]))) out.set(Number(m[2]), Number(m[1]));
  }
  return out;
}

/** The node port of the VM's guest port: the forward it has, else a new one on a free port. */
export async function publishGuestPort(
  qmpSocket: string,
  guestPort: number,
  probe: PortProbe = nodePortProbe,
  signal?: AbortSignal,
): Promise<number> {
  stopIfCancelled(signal, `Publishing port ${guestPort} of the VM`);
  const existing = parseHostForwards(String(await qmpOnce(qmpSocket, hostForwardCalls.list())));
  const had = existing.get(guestPort);
  if (had !== undefined) return had;
  let said = '';
  // A free port can be taken between the probe and QEMU's bind: try another, a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    stopIfCancelled(signal, `Publishing port ${guestPort} of the VM`);
    const nodePort = await probe.anyFree();
    said = String(await qmpOnce(qmpSocket, hostForwardCalls.add(nodePort, guestPort))).trim();
    if (said === '') return nodePort;
  }
  throw new AgentError('PROVIDER_ERROR', `QEMU did not publish port ${guestPort} of the VM on the node: ${said}`, {
    provider: 'qemu',
    hint: "QEMU's user-mode network refused the forward; reach the port through Remote-SSH's own port forwarding.",
  });
}
