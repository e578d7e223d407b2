/**
 * QMP, QEMU's machine protocol, on the VM's Unix socket: commands described as plain data
 * (qmpCalls), replies parsed by pure functions, one small client that executes them. QMP is
 * JSON objects separated by CRLF: a greeting, then `qmp_capabilities`, then commands whose
 * replies carry the `id` they were sent with, with asynchronous events in between.
 * Hand-written: the protocol is a dozen lines of framing, and no maintained npm client exists.
 */
import { connect, type Socket } from 'node:net';

export interface QmpCall {
  execute: string;
  arguments?: Record<string, unknown>;
}

export const qmpCalls = {
  capabilities: (): QmpCall => ({ execute: 'qmp_capabilities' }),
  queryStatus: (): QmpCall => ({ execute: 'query-status' }),
  /** ACPI power button: a guest with an init shuts down cleanly. */
  powerdown: (): QmpCall => ({ execute: 'system_powerdown' }),
  /** QEMU exits at once, the guest gets no say. */
  quit: (): QmpCall => ({ execute: 'quit' }),
};

export type QmpMessage =
  | { kind: 'greeting'; version: string }
  | { kind: 'return'; id?: string; value: unknown }
  | { kind: 'error'; id?: string; class: string; desc: string }
  | { kind: 'event'; event: string; data?: unknown };

/** Splits a byte stream into the JSON lines QMP sends (a line may arrive in pieces). */
export class QmpFramer {
  private rest = '';
  push(chunk: Buffer | string): string[] {
    this.rest += chunk.toString();
    const lines = this.rest.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((l) => l.trim()).filter(Boolean);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One QMP line; throws on anything that is not a QMP message. */
export function parseQmpLine(line: string): QmpMessage {
  const v: unknown = JSON.parse(line);
  if (!isRecord(v)) throw new Error(`not a QMP message: ${line.slice(0, 200)}`);
  const id = typeof v.id === 'string' ? v.id : undefined;
  if (isRecord(v.QMP)) {
    const q = isRecord(v.QMP.version) && isRecord(v.QMP.version.qemu) ? v.QMP.version.qemu : {};
    return {
      kind: 'greeting',
      version: `${String(q.major ?? '?')}.${String(q.minor ?? '?')}.${String(q.micro ?? '?')}`,
    };
  }
  if ('return' in v) return { kind: 'return', ...(id ? { id } : {}), value: v.return };
  if (isRecord(v.error))
    return {
      kind: 'error',
      ...(id ? { id } : {}),
      class: String(v.error.class ?? 'GenericError'),
      desc: String(v.error.desc ?? ''),
    };
  if (typeof v.event === 'string')
    return { kind: 'event', event: v.event, ...(v.data !== undefined ? { data: v.data } : {}) };
  throw new Error(`not a QMP message: ${line.slice(0, 200)}`);
}

export interface QmpStatus {
  /** `running`, `paused`, `shutdown`, `inmigrate`, `internal-error`, `guest-panicked`… */
  status: string;
  running: boolean;
}

export function parseQueryStatus(value: unknown): QmpStatus {
  if (!isRecord(value) || typeof value.status !== 'string' || typeof value.running !== 'boolean')
    throw new Error(`unexpected query-status reply: ${JSON.stringify(value).slice(0, 200)}`);
  return { status: value.status, running: value.running };
}

export class QmpError extends Error {
  constructor(
    readonly errorClass: string,
    message: string,
  ) {
    super(message);
    this.name = 'QmpError';
  }
}

/**
 * A QMP session: connect, negotiate, send commands one at a time. Not kept open between
 * calls: a VM has one QMP socket, and QEMU serves one client on it at a time.
 */
export class QmpSession {
  private readonly framer = new QmpFramer();
  private readonly waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed: Error | undefined;
  /** Events seen since connect (SHUTDOWN, POWERDOWN…). */
  readonly events: string[] = [];

  private constructor(private readonly socket: Socket) {}

  static async open(path: string, timeoutMs = 5_000): Promise<QmpSession> {
    const socket = connect(path);
    const session = new QmpSession(socket);
    const greeted = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`QMP on ${path} did not greet within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      session.onGreeting = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    socket.on('data', (c: Buffer) => session.receive(c));
    socket.on('close', () => session.fail(new Error('the QMP connection closed')));
    socket.on('error', (err) => session.fail(err));
    try {
      await greeted;
      await session.execute(qmpCalls.capabilities(), timeoutMs);
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return session;
  }

  private onGreeting: () => void = () => undefined;

  private receive(chunk: Buffer): void {
    for (const line of this.framer.push(chunk)) {
      let m: QmpMessage;
      try {
        m = parseQmpLine(line);
      } catch (err) {
        this.fail(err as Error);
        this.socket.destroy();
        return;
      }
      if (m.kind === 'greeting') this.onGreeting();
      else if (m.kind === 'event') this.events.push(m.event);
      else if (m.id !== undefined) {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (m.kind === 'return') w?.resolve(m.value);
        else w?.reject(new QmpError(m.class, m.desc));
      }
    }
  }

  private fail(err: Error): void {
    this.closed ??= err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  execute(call: QmpCall, timeoutMs = 5_000): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`QMP ${call.execute} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(JSON.stringify({ ...call, id }) + '\r\n');
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One command on a fresh session: open, execute, close. */
export async function qmpOnce(path: string, call: QmpCall, timeoutMs = 5_000): Promise<unknown> {
  const s = await QmpSession.open(path, timeoutMs);
  try {
    return await s.execute(call, timeoutMs);
  } finally {
    s.close();
  }
}
