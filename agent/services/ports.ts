/**
 * Node ports, chosen by the agent for every provider: the workspace's SSH server and each service
 * port are published on the node's 127.0.0.1. The port a workspace had before is kept (Docker
 * fixes it in the container anyway); a new service port is the service's own number when that is
 * free on the node, else any free port — and that is reported. The SSH server gets any free port.
 */
import { createServer } from 'node:net';

export interface PortChoice {
  guestPort: number;
  nodePort: number;
  /** The port we preferred (the remembered one, else the service's own) was taken on the node. */
  preferredTaken?: number;
}

export interface PortProbe {
  isFree(port: number): Promise<boolean>;
  /** A port the kernel says is free now. */
  anyFree(): Promise<number>;
}

export async function choosePorts(
  guestPorts: readonly number[],
  remembered: Readonly<Record<string, number>>,
  probe: PortProbe,
): Promise<PortChoice[]> {
  const used = new Set<number>();
  const out: PortChoice[] = [];
  for (const guestPort of [...new Set(guestPorts)]) {
    const preferred = remembered[String(guestPort)] ?? guestPort;
    if (!used.has(preferred) && (await probe.isFree(preferred))) {
      used.add(preferred);
      out.push({ guestPort, nodePort: preferred });
      continue;
    }
    const nodePort = await freeExcept(used, probe);
    used.add(nodePort);
    out.push({ guestPort, nodePort, preferredTaken: preferred });
  }
  return out;
}

/**
 * The node port of the workspace's SSH server: the remembered one while it is free and no service
 * has it, else one the kernel says is free now.
 */
export async function chooseSshPort(
  remembered: number | undefined,
  services: readonly PortChoice[],
  probe: PortProbe,
): Promise<number> {
  const used = new Set(services.map((c) => c.nodePort));
  if (remembered !== undefined && !used.has(remembered) && (await probe.isFree(remembered))) return remembered;
  return freeExcept(used, probe);
}

/** A free port not among `used` (the kernel may hand out one just chosen for another port). */
async function freeExcept(used: ReadonlySet<number>, probe: PortProbe): Promise<number> {
  let port = await probe.anyFree();
  for (let i = 0; used.has(port) && i < 20; i++) port = await probe.anyFree();
  return port;
}

function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : undefined;
      srv.close(() => resolve(got));
    });
  });
}

/** Asks the node's own network stack (the agent runs where the engine publishes). */
export const nodePortProbe: PortProbe = {
  isFree: async (port) => (await listenOnce(port)) !== undefined,
  anyFree: async () => {
    const p = await listenOnce(0);
    if (p === undefined) throw new Error('no free port on 127.0.0.1');
    return p;
  },
};

/** `{ "3000": 41234 }` from choices, for the workspace record. */
export function portMap(choices: readonly PortChoice[]): Record<string, number> {
  return Object.fromEntries(choices.map((c) => [String(c.guestPort), c.nodePort]));
}
