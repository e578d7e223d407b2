/**
 * A workspace on another member of the node's LXD cluster: its proxy devices would listen on that
 * member's loopback, out of the agent's reach. So the agent listens on its own 127.0.0.1 node
 * ports and carries each connection through LXD (an exec on whatever member runs the instance):
 * SSH to the workspace's own sshd in inetd mode (`sshd -i`, the same config and host key as its
 * unit), a service port to a connector inside that dials the instance's own 127.0.0.1. Nothing
 * assumes where the instance runs or that the members can reach each other's addresses.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { NodePortTakenError } from '../contract';
import type { RelayPlan } from './api';
import type { LxdClient } from './client';
import { lxdExec, type ExecIdentity } from './exec';

const ROOT: ExecIdentity = { uid: 0, gid: 0, home: '/root' };

/**
 * Dials the instance's own 127.0.0.1:port and copies both ways until either side ends (bash's
 * /dev/tcp: Debian and Ubuntu images, which the SSH server's systemd already requires, have bash).
 * The writer's `<&0` is needed: bash gives a background command /dev/null as stdin otherwise.
 */
export function serviceConnectorArgv(port: number): string[] {
  return [
    'bash',
    '-c',
    `exec 3<>/dev/tcp/127.0.0.1/${port} || exit 1; cat <&3 & r=$!; cat <&0 >&3 & w=$!; wait -n; kill $r $w 2>/dev/null; exit 0`,
  ];
}

export class MemberRelays {
  /** instance → node port → listener */
  private readonly listeners = new Map<string, Map<number, Server>>();
  private readonly connections = new Map<string, Set<Socket>>();
  /** instance → guest port → node port, for ports published while it runs (publish). */
  private readonly published = new Map<string, Map<number, Promise<number>>>();
  /** The same, once listening: guest port → node port. */
  private readonly publishedNow = new Map<string, Record<string, number>>();

  constructor(private readonly client: LxdClient) {}

  /** Listeners for every port of the plan (once each); a node port held by another process rejects. */
  async ensure(instance: string, plan: RelayPlan): Promise<void> {
    const mine = this.listeners.get(instance) ?? new Map<number, Server>();
    this.listeners.set(instance, mine);
    for (const [guest, nodePort] of Object.entries(plan.ports)) {
      if (mine.has(nodePort)) continue;
      await this.listen(instance, nodePort, guest === '22' ? plan.sshd : serviceConnectorArgv(Number(guest)));
    }
  }

  /** A listener on 127.0.0.1:nodePort (0: any free port) carrying each connection into the instance. */
  private async listen(instance: string, nodePort: number, argv: string[]): Promise<number> {
    const mine = this.listeners.get(instance) ?? new Map<number, Server>();
    this.listeners.set(instance, mine);
    const server = createServer((socket) => this.carry(instance, socket, argv));
    if (nodePort) mine.set(nodePort, server);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(nodePort, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      mine.delete(nodePort);
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new NodePortTakenError(
          nodePort,
          `The node port 127.0.0.1:${nodePort} of the instance ${instance} is taken by another process`,
          { cause: err },
        );
      throw err;
    }
    const bound = (server.address() as AddressInfo).port;
    mine.set(bound, server);
    return bound;
  }

  /**
   * One more port of a running instance (a dev server started by hand) on a node port the system
   * picks, carried like a service port; the same node port again for the same port.
   */
  async publish(instance: string, guestPort: number): Promise<number> {
    const mine = this.published.get(instance) ?? new Map<number, Promise<number>>();
    this.published.set(instance, mine);
    let port = mine.get(guestPort);
    if (!port) {
      port = this.listen(instance, 0, serviceConnectorArgv(guestPort));
      mine.set(guestPort, port);
      port.then(
        (nodePort) => {
          if (this.published.get(instance) === mine)
            this.publishedNow.set(instance, { ...this.publishedNow.get(instance), [guestPort]: nodePort });
        },
        () => mine.delete(guestPort),
      );
    }
    return port;
  }

  /** Stops listening for the instance and ends its open connections. */
  close(instance: string): void {
    for (const server of this.listeners.get(instance)?.values() ?? []) server.close();
    this.listeners.delete(instance);
    this.published.delete(instance);
    this.publishedNow.delete(instance);
    for (const s of this.connections.get(instance) ?? []) s.destroy();
    this.connections.delete(instance);
  }

  closeAll(): void {
    for (const instance of [...this.listeners.keys()]) this.close(instance);
  }

  /** Ports published by hand (publish) and listening: guest port → node port. */
  publishedPorts(instance: string): Record<string, number> {
    return { ...this.publishedNow.get(instance) };
  }

  /** Node ports listened on for the instance (for status and tests). */
  ports(instance: string): number[] {
    return [...(this.listeners.get(instance)?.keys() ?? [])];
  }

  private carry(instance: string, socket: Socket, argv: string[]): void {
    const open = this.connections.get(instance) ?? new Set<Socket>();
    this.connections.set(instance, open);
    open.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => open.delete(socket));
    // The command's output is the connection's; its stderr (sshd -e's log) is not the client's.
    lxdExec(this.client, instance, argv, ROOT, {
      stdin: socket,
      onStdout: (chunk) => socket.write(chunk),
      onStderr: () => undefined,
      timeoutMs: 0,
    }).then(
      () => socket.end(),
      () => socket.destroy(),
    );
  }
}
