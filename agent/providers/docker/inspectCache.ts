/**
 * Running workspace containers' inspects, remembered so that the check before each forwarded
 * connection (which node port carries a workspace port now) is a memory lookup, not an engine
 * round trip. It stays a real check: an entry is only ever served while Docker's own event
 * stream is subscribed, and any event of the container (start, stop, die, kill, pause…) or any
 * lifecycle call of ours drops it, so the next inspect asks the engine again. While the stream
 * is down (dockerd restarting, not yet subscribed) nothing is remembered or served.
 */
import type { ProviderWorkspace } from '../contract';
import { containerEventsCall } from './api';
import type { EngineClient } from './engine';

/** One container event as the engine streams it (`{"Type":"container","Action":"die","Actor":{…}}`). */
export interface ContainerEvent {
  action: string;
  id: string;
  /** The container's name (`vendetta-x`), when the event carries it. */
  name?: string;
}

/** One line of the event stream; undefined for anything that is not a container event. */
export function parseContainerEvent(line: string): ContainerEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const actor = typeof o.Actor === 'object' && o.Actor !== null ? (o.Actor as Record<string, unknown>) : {};
  const id = typeof actor.ID === 'string' ? actor.ID : typeof o.id === 'string' ? o.id : undefined;
  const action = typeof o.Action === 'string' ? o.Action : typeof o.status === 'string' ? o.status : undefined;
  if ((o.Type ?? 'container') !== 'container' || !id || !action) return undefined;
  const attrs =
    typeof actor.Attributes === 'object' && actor.Attributes !== null
      ? (actor.Attributes as Record<string, unknown>)
      : {};
  return { action, id, ...(typeof attrs.name === 'string' ? { name: attrs.name } : {}) };
}

/** Splits a byte stream into its lines (events arrive split across chunks in any way). */
export class LineSplitter {
  private pending = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const lines = (this.pending + chunk.toString('utf8')).split('\n');
    this.pending = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) this.emit(l);
  }
}

export class InspectCache {
  private readonly entries = new Map<string, ProviderWorkspace>();
  private subscribed = false;
  /** Bumped by every change; an inspect that began before one is not remembered. */
  private epoch = 0;

  get trusted(): boolean {
    return this.subscribed;
  }

  /** The remembered inspect of `ref` (an id or a name), only while the event stream is up. */
  get(ref: string): ProviderWorkspace | undefined {
    return this.subscribed ? this.entries.get(ref) : undefined;
  }

  /** Call before a live inspect; pass the result to remember(). */
  begin(): number {
    return this.epoch;
  }

  /** Keeps a running container's inspect, unless anything changed since begin() or the stream is down. */
  remember(ref: string, ws: ProviderWorkspace, began: number): void {
    if (!this.subscribed || began !== this.epoch || ws.state !== 'running') return;
    this.entries.set(ref, ws);
  }

  /** A container changed (an event, or a lifecycle call of ours): whatever names it is dropped. */
  forget(ref: string): void {
    this.epoch++;
    for (const [key, ws] of this.entries) {
      if (key === ref || ws.providerId === ref || ws.providerId.startsWith(ref) || ref.startsWith(key))
        this.entries.delete(key);
    }
  }

  event(e: ContainerEvent): void {
    this.forget(e.id);
    if (e.name !== undefined) this.forget(e.name);
  }

  /** The stream is subscribed: from now on every change is heard. */
  up(): void {
    this.epoch++;
    this.entries.clear();
    this.subscribed = true;
  }

  /** The stream ended: changes may go unheard, so nothing is served until it is back. */
  down(): void {
    this.epoch++;
    this.entries.clear();
    this.subscribed = false;
  }
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

/**
 * Follows the engine's container events into the cache for as long as the process lives,
 * subscribing again (with a growing pause) whenever the stream ends: dockerd restarted or
 * refused. Its socket and timers keep no process alive.
 */
export function followContainerEvents(engine: EngineClient, cache: InspectCache): void {
  let pause = RETRY_MIN_MS;
  const once = async (): Promise<void> => {
    const lines = new LineSplitter((line) => {
      const e = parseContainerEvent(line);
      if (e) cache.event(e);
    });
    try {
      await engine.send(containerEventsCall(), {
        background: true,
        onResponse: () => {
          cache.up();
          pause = RETRY_MIN_MS;
        },
        onChunk: (c) => lines.push(c),
      });
    } catch {
      // dockerd is down or restarting: the cache is not trusted until the stream is back
    }
    cache.down();
    setTimeout(() => void once(), pause).unref();
    pause = Math.min(pause * 2, RETRY_MAX_MS);
  };
  void once();
}
