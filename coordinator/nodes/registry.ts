/**
 * The node registry: `$VENDETTA_HOME/nodes.yaml` plus the built-in `local` node (never written
 * to the file). Writes are atomic; a hand edit is picked up by a directory watch; a hand edit
 * that does not validate is logged with file:line:col and the last good registry stays in use.
 */
import { existsSync, mkdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { LOCAL_NODE_NAME, serializeNodesFile, validateNodesText, type NodeEntry } from '../config/nodes';
import type { Diagnostic } from '../config/diagnostics';
import { VendettaError } from '../errors';
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import { writeFileAtomicSync } from '../../common/fs/atomicWrite';

export { LOCAL_NODE_NAME };

/** The built-in node: the agent runs as a child process of the coordinator. */
export const LOCAL_NODE: Readonly<NodeEntry> = Object.freeze({
  name: LOCAL_NODE_NAME,
  host: 'localhost',
  transport: 'local' as const,
});

/** Why the file on disk is not in use (the last good registry is). */
export interface RegistryProblem {
  file: string;
  line: number;
  col: number;
  message: string;
  hint?: string;
}

export interface RegistryOptions {
  /** Quiet period after a change on disk before it is read (editors write in bursts). */
  debounceMs?: number;
}

export class NodeRegistry {
  private entries: NodeEntry[] = [];
  private lastText: string | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();
  /** Set while the file on disk is invalid. */
  problem: RegistryProblem | undefined;

  constructor(
    private readonly paths: HomePaths,
    private readonly log: Logger,
    private readonly opts: RegistryOptions = {},
  ) {}

  /** The built-in `local` node first, then the file's nodes in file order. */
  list(): NodeEntry[] {
    return [{ ...LOCAL_NODE }, ...this.entries.map((e) => ({ ...e }))];
  }

  get(name: string): NodeEntry | undefined {
    return this.list().find((e) => e.name === name);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Reads the file when it changed since the last read or write. Returns true when the nodes in
   * use (or the problem) changed.
   */
  reload(): boolean {
    let text: string;
    try {
      text = existsSync(this.paths.nodesFile) ? readFileSync(this.paths.nodesFile, 'utf8') : '';
    } catch (err) {
      this.log.error('cannot read the node registry', { file: this.paths.nodesFile, err });
      return false;
    }
    if (text === this.lastText) return false;
    this.lastText = text;
    const before = JSON.stringify([this.entries, this.problem]);
    this.apply(text);
    const changed = JSON.stringify([this.entries, this.problem]) !== before;
    if (changed) for (const l of [...this.listeners]) safeCall(l, this.log);
    return changed;
  }

  /** Adds a node or replaces the one with the same name; refuses while the file is invalid. */
  upsert(entry: NodeEntry): void {
    if (entry.name === LOCAL_NODE_NAME) throw builtInError();
    this.mutate((nodes) => {
      const i = nodes.findIndex((n) => n.name === entry.name);
      if (i >= 0) nodes[i] = { ...entry };
      else nodes.push({ ...entry });
      return nodes;
    });
  }

  /** Returns false when there was no such node in the file. */
  remove(name: string): boolean {
    if (name === LOCAL_NODE_NAME) throw builtInError();
    let found = false;
    this.mutate((nodes) => {
      found = nodes.some((n) => n.name === name);
      return nodes.filter((n) => n.name !== name);
    });
    return found;
  }

  /** Picks up hand edits: watches the directory, since editors often save by rename. */
  watch(): void {
    if (this.watcher) return;
    mkdirSync(this.paths.root, { recursive: true, mode: 0o700 });
    const name = basename(this.paths.nodesFile);
    this.watcher = watch(this.paths.root, { persistent: false }, (_event, filename) => {
      if (filename !== null && filename !== name) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), this.opts.debounceMs ?? 100);
    });
    this.watcher.on('error', (err) => this.log.warn('stopped watching the node registry', { err }));
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /**
   * Throws REGISTRY_INVALID while the file on disk does not validate: a command that would end
   * by writing it fails before doing anything. Reads first, so a fresh hand edit counts.
   */
  assertWritable(): void {
    this.reload();
    if (this.problem) {
      const p = this.problem;
      throw new VendettaError('REGISTRY_INVALID', `${p.file}:${p.line}:${p.col}: ${p.message}`, {
        hint: `Fix ${p.file} (vendetta does not overwrite a file you are editing), then retry.`,
      });
    }
  }

  private mutate(change: (nodes: NodeEntry[]) => NodeEntry[]): void {
    // A hand edit the watcher has not delivered yet must not be overwritten.
    this.assertWritable();
    const next = change(this.entries.map((e) => ({ ...e })));
    const text = serializeNodesFile({ nodes: next });
    mkdirSync(this.paths.root, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(this.paths.nodesFile, text, { createDir: true });
    this.lastText = text;
    this.entries = next;
    for (const l of [...this.listeners]) safeCall(l, this.log);
  }

  private apply(text: string): void {
    const file = this.paths.nodesFile;
    if (text.trim() === '') {
      this.entries = [];
      this.problem = undefined;
      return;
    }
    const { nodes, diagnostics } = validateNodesText(text, file);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    for (const d of diagnostics.filter((x) => x.severity !== 'error')) {
      this.log.warn(`${d.file}:${d.line}:${d.col}: ${d.message}`, { hint: d.hint, code: d.code });
    }
    const first = errors[0];
    if (first || !nodes) {
      this.problem = toProblem(first, file);
      this.log.error(
        `node registry not reloaded: ${this.problem.file}:${this.problem.line}:${this.problem.col}: ${this.problem.message}`,
        {
          hint: this.problem.hint,
          errors: errors.length,
        },
      );
      return;
    }
    this.problem = undefined;
    this.entries = nodes.nodes.filter((n) => {
      if (n.name !== LOCAL_NODE_NAME) return true;
      this.log.warn(`${file}: the node name "local" is built in; that entry is ignored`);
      return false;
    });
    this.log.info('node registry loaded', { nodes: this.entries.length });
  }
}

function toProblem(d: Diagnostic | undefined, file: string): RegistryProblem {
  if (!d) return { file, line: 1, col: 1, message: 'the file could not be read as a node registry' };
  const p: RegistryProblem = { file: d.file, line: d.line, col: d.col, message: d.message };
  if (d.hint) p.hint = d.hint;
  return p;
}

function builtInError(): VendettaError {
  return new VendettaError('INVALID_NAME', 'The node "local" is built in and cannot be added, changed or removed', {
    hint: 'Choose another name for the node.',
  });
}

function safeCall(fn: () => void, log: Logger): void {
  try {
    fn();
  } catch (err) {
    log.error('registry listener failed', { err });
  }
}
