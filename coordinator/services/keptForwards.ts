/**
 * The forwards that outlive the client that asked for them (`up --forward`, or a forward not tied
 * to a connection): `$VENDETTA_HOME/state/forwards.json`, so a coordinator started again forwards
 * the same ports again, as `up --forward` promises ("until `workspace rm`"). Forwards held only
 * while a `workspace forward` runs are never written here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NAME_PATTERN } from '../../agent/protocol';
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import { writeFileAtomicSync } from '../../common/fs/atomicWrite';

export interface KeptForward {
  workspace: string;
  node: string;
  port: number;
  /** The port on this machine it had: asked for again, so the URL the user saw keeps working. */
  localPort: number;
  /** The service's port on the node when last seen; refreshed when the node refuses it. */
  nodePort: number;
}

const isPort = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 65535;

function isKept(x: unknown): x is KeptForward {
  const r = x as Record<string, unknown> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.workspace === 'string' &&
    NAME_PATTERN.test(r.workspace) &&
    typeof r.node === 'string' &&
    NAME_PATTERN.test(r.node) &&
    isPort(r.port) &&
    isPort(r.localPort) &&
    isPort(r.nodePort)
  );
}

export class KeptForwards {
  readonly file: string;

  constructor(
    paths: HomePaths,
    private readonly log: Logger,
  ) {
    this.file = join(paths.stateDir, 'forwards.json');
  }

  /** What the file holds; a damaged file is logged and read as empty (the forwards are only a convenience). */
  list(): KeptForward[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.warn('cannot read the kept forwards', { file: this.file, err });
      return [];
    }
    try {
      const list = (JSON.parse(text) as { forwards?: unknown }).forwards;
      if (Array.isArray(list)) return list.filter(isKept);
    } catch {
      // fall through
    }
    this.log.warn('the kept forwards file is damaged; starting without it', { file: this.file });
    return [];
  }

  add(f: KeptForward): void {
    this.write([
      ...this.list().filter((k) => !same(k, f)),
      { workspace: f.workspace, node: f.node, port: f.port, localPort: f.localPort, nodePort: f.nodePort },
    ]);
  }

  /** Drops the matching forwards (any node when `node` is absent, any port when `port` is). */
  remove(workspace: string, node: string | undefined, port?: number): void {
    const all = this.list();
    const rest = all.filter(
      (k) =>
        !(
          k.workspace === workspace &&
          (node === undefined || k.node === node) &&
          (port === undefined || k.port === port)
        ),
    );
    if (rest.length !== all.length) this.write(rest);
  }

  private write(forwards: KeptForward[]): void {
    writeFileAtomicSync(this.file, JSON.stringify({ version: 1, forwards }, null, 2) + '\n', {
      mode: 0o600,
      createDir: true,
    });
  }
}

function same(a: KeptForward, b: KeptForward): boolean {
  return a.workspace === b.workspace && a.node === b.node && a.port === b.port;
}
