/**
 * Forwarded service ports: a listener on this machine's 127.0.0.1 per forward, and for each
 * connection a fresh stream to the service's port on the node's loopback over the node's pooled
 * link (direct-tcpip; a plain connect for `local`). Nothing is held per forward but the listener,
 * so a link that dropped and came back serves the next connection as if nothing happened.
 *
 * Before each connection the node says which node port carries the workspace port, from the
 * provider's own mapping: a stopped workspace's node port, taken meanwhile by another process on
 * the node, never receives the laptop's traffic; the connection is refused and listeners hear why.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { toVendettaError, VendettaError } from '../errors';
import type { Logger } from '../log';
import type { ForwardInfo, ForwardRefusal } from '../protocol';

/** Where one forward's connections go. */
export interface ForwardEndpoint {
  workspace: string;
  node: string;
  /** The port inside the workspace. */
  port: number;
  /** The node port that carries `port`, as the workspace's provider maps it now; rejects when none does. */
  nodePortNow(): Promise<number>;
  /** A byte stream to 127.0.0.1:nodePort as the node sees it. */
  open(nodePort: number): Promise<Duplex>;
}

interface Forward {
  info: ForwardInfo;
  endpoint: ForwardEndpoint;
  server: Server;
  sockets: Set<Socket>;
  /** The client whose disconnect ends it; undefined: it stays until unforwarded. */
  owner: number | undefined;
}

const keyOf = (node: string, workspace: string, port: number) => `${node}/${workspace}/${port}`;

export class PortForwards {
  private readonly forwards = new Map<string, Forward>();
  private readonly refusalListeners = new Set<(r: ForwardRefusal) => void>();

  constructor(private readonly log: Logger) {}

  /** Called with each connection refused because the workspace's port is not where it was. */
  onRefused(listener: (r: ForwardRefusal) => void): { dispose(): void } {
    this.refusalListeners.add(listener);
    return { dispose: () => this.refusalListeners.delete(listener) };
  }

  find(node: string, workspace: string, port: number): ForwardInfo | undefined {
    const f = this.forwards.get(keyOf(node, workspace, port));
    return f ? { ...f.info } : undefined;
  }

  list(): ForwardInfo[] {
    return [...this.forwards.values()].map((f) => ({ ...f.info }));
  }

  /** Open connections through all forwards (for tests and status). */
  get connectionCount(): number {
    let n = 0;
    for (const f of this.forwards.values()) n += f.sockets.size;
    return n;
  }

  /**
   * Starts a forward. `localPort` 0 or absent: the workspace port's own number when free here,
   * else any free port. An existing forward of the same port is returned as it is.
   */
  async add(
    endpoint: ForwardEndpoint,
    nodePort: number,
    localPort: number | undefined,
    owner?: number,
  ): Promise<ForwardInfo> {
    const key = keyOf(endpoint.node, endpoint.workspace, endpoint.port);
    const existing = this.forwards.get(key);
    if (existing) {
      if (localPort && localPort !== existing.info.localPort) {
        throw new VendettaError(
          'TUNNEL_FAILED',
          `${endpoint.workspace}:${endpoint.port} is already forwarded to 127.0.0.1:${existing.info.localPort}`,
          {
            node: endpoint.node,
            hint: `Use ${existing.info.url}, or stop that forward first (\`vendetta workspace forward\` ends with Ctrl-C).`,
          },
        );
      }
      return { ...existing.info };
    }
    const server = createServer({ pauseOnConnect: true });
    const bound = localPort
      ? await listen(server, localPort, true)
      : ((await listen(server, endpoint.port, false)) ?? (await listen(server, 0, true)));
    if (bound === undefined) throw new Error('unreachable: listen on port 0 failed without an error');
    // Another forward of the same port may have been made while this one was binding.
    const raced = this.forwards.get(key);
    if (raced) {
      server.close();
      return { ...raced.info };
    }
    const info: ForwardInfo = {
      workspace: endpoint.workspace,
      node: endpoint.node,
      port: endpoint.port,
      nodePort,
      localPort: bound,
      url: `http://127.0.0.1:${bound}`,
      kept: owner === undefined,
    };
    const f: Forward = { info, endpoint, server, sockets: new Set(), owner };
    server.on('connection', (socket: Socket) => this.carry(f, socket));
    server.on('error', (err) => this.log.warn('a port forward listener failed', { ...info, err }));
    this.forwards.set(key, f);
    this.log.info('port forwarded', { ...info });
    return { ...info };
  }

  /** Ends the forwards of a port (on any node when `node` is absent); true when one was there. */
  remove(workspace: string, node: string | undefined, port: number): boolean {
    let found = false;
    for (const f of [...this.forwards.values()]) {
      if (f.info.workspace === workspace && f.info.port === port && (node === undefined || f.info.node === node)) {
        this.end(f);
        found = true;
      }
    }
    return found;
  }

  removeWorkspace(workspace: string, node: string): void {
    for (const f of [...this.forwards.values()])
      if (f.info.workspace === workspace && f.info.node === node) this.end(f);
  }

  /** The forwards a client asked to hold only while it is connected. */
  removeOwnedBy(owner: number): void {
    for (const f of [...this.forwards.values()]) if (f.owner === owner) this.end(f);
  }

  close(): void {
    for (const f of [...this.forwards.values()]) this.end(f);
  }

  private end(f: Forward): void {
    this.forwards.delete(keyOf(f.info.node, f.info.workspace, f.info.port));
    f.server.close();
    for (const s of f.sockets) s.destroy();
    f.sockets.clear();
    this.log.info('port forward ended', { ...f.info });
  }

  private carry(f: Forward, socket: Socket): void {
    f.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', (err) =>
      this.log.debug('forwarded connection error (local side)', { port: f.info.port, error: err.message }),
    );
    socket.once('close', () => f.sockets.delete(socket));
    this.upstream(f).then(
      (stream) => {
        if (socket.destroyed) {
          stream.destroy();
          return;
        }
        stream.on('error', (err) =>
          this.log.debug('forwarded connection error (node side)', { port: f.info.port, error: err.message }),
        );
        socket.pipe(stream);
        stream.pipe(socket);
        socket.resume();
        // Either side gone: let what is buffered flush, then take the other down too.
        stream.once('close', () => {
          socket.end();
          setTimeout(() => socket.destroy(), 2000).unref();
        });
        socket.once('close', () => stream.destroy());
      },
      (err: unknown) => {
        const e = toVendettaError(err);
        this.log.warn('a forwarded connection could not reach the node', {
          workspace: f.info.workspace,
          node: f.info.node,
          port: f.info.port,
          code: e.code,
          error: e.message,
        });
        socket.destroy();
        if (!(err instanceof Refused)) return;
        const refusal: ForwardRefusal = {
          ...f.info,
          error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) },
        };
        for (const l of [...this.refusalListeners]) l(refusal);
      },
    );
  }

  /**
   * The node's check and the stream to the last known node port are made at once, so a
   * connection costs one round trip, not two; not a byte goes either way (the local socket is
   * paused) until the check has passed, and a stream the check did not confirm is closed unused.
   */
  private async upstream(f: Forward): Promise<Duplex> {
    const guess = f.info.nodePort;
    const opening = f.endpoint.open(guess);
    // Until carry() takes it over, a failure of this stream is nobody's to report.
    opening.then(
      (s) => s.on('error', () => undefined),
      () => undefined,
    );
    const discard = () =>
      void opening.then(
        (s) => s.destroy(),
        () => undefined,
      );
    let nodePort: number;
    try {
      nodePort = await f.endpoint.nodePortNow();
    } catch (err) {
      discard();
      const e = toVendettaError(err);
      if (e.code === 'NODE_UNREACHABLE') throw e;
      throw new Refused(`Refused a connection to ${f.info.url}: ${e.message}`, {
        node: f.info.node,
        hint: e.hint,
        cause: e,
      });
    }
    if (nodePort === guess) return opening;
    discard();
    f.info.nodePort = nodePort;
    return f.endpoint.open(nodePort);
  }
}

/** A connection the forward would not carry: the node port is not the workspace's now. */
class Refused extends VendettaError {
  constructor(message: string, opts: { node: string; hint?: string; cause: unknown }) {
    super('TUNNEL_FAILED', message, opts);
  }
}

/**
 * Binds to 127.0.0.1:port. `required`: a port in use is an error a person can act on; otherwise
 * undefined, so the caller can fall back to any free port.
 */
function listen(server: Server, port: number, required: boolean): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (!required && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) resolve(undefined);
      else {
        reject(
          new VendettaError(
            'TUNNEL_FAILED',
            `Cannot listen on 127.0.0.1:${port} here: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`,
            {
              cause: err,
              hint: 'Choose another local port (PORT:LOCALPORT), or leave it out for a free one.',
            },
          ),
        );
      }
    };
    const onListening = () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : undefined);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: '127.0.0.1', port, exclusive: true });
  });
}
