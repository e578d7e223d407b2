/**
 * The coordinator's record of the workspaces it made: `$VENDETTA_HOME/state/workspaces.json`,
 * replaced atomically on every change. The node's agent owns the workspace itself; this file is
 * what lets `list` survive a coordinator restart and ties each workspace to its project folder.
 */
import { readTextIfExists } from '../../common/fs/files';
import { join } from 'node:path';
import { NAME_PATTERN } from '../../agent/protocol';
import { VendettaError } from '../errors';
import type { HomePaths } from '../home';
import { writeFileAtomicSync } from '../../common/fs/atomicWrite';
import type { UnfinishedUp, WorkspaceProvider } from '../protocol';
import type { PortsConfig } from '../services/portList';

export interface WorkspaceRecord {
  name: string;
  node: string;
  provider: WorkspaceProvider;
  /** Absolute path of the project on this machine; absent for a `--git` workspace. */
  projectPath?: string;
  git?: { url: string; ref?: string };
  sshHost: string;
  workspaceFolder: string;
  /** Login user inside the workspace. */
  user: string;
  /** The config opted in to SSH agent forwarding (its ssh_config block says `ForwardAgent yes`). */
  forwardAgent?: boolean;
  createdAt: string;
  /** The config's forwardPorts and portsAttributes at the last `up`: what `workspace ports` labels with. */
  ports?: PortsConfig;
  /** How far the last `up` got while it has not finished; absent once one finished. */
  unfinished?: UnfinishedUp;
}

interface StoreFile {
  version: 1;
  workspaces: WorkspaceRecord[];
}

const PROVIDERS = new Set(['docker', 'lxc', 'qemu']);

export function workspacesFile(paths: HomePaths): string {
  return join(paths.stateDir, 'workspaces.json');
}

export class WorkspaceStore {
  private cache: WorkspaceRecord[] | undefined;

  constructor(readonly file: string) {}

  list(): WorkspaceRecord[] {
    this.cache ??= this.read();
    return this.cache.map((r) => ({ ...r }));
  }

  get(name: string, node: string): WorkspaceRecord | undefined {
    return this.list().find((r) => r.name === name && r.node === node);
  }

  /** Every record with this name, on whatever node. */
  named(name: string): WorkspaceRecord[] {
    return this.list().filter((r) => r.name === name);
  }

  upsert(record: WorkspaceRecord): void {
    const rest = this.list().filter((r) => !(r.name === record.name && r.node === record.node));
    this.write([...rest, { ...record }]);
  }

  remove(name: string, node: string): boolean {
    const all = this.list();
    const rest = all.filter((r) => !(r.name === name && r.node === node));
    if (rest.length === all.length) return false;
    this.write(rest);
    return true;
  }

  private write(records: WorkspaceRecord[]): void {
    records.sort((a, b) => a.node.localeCompare(b.node) || a.name.localeCompare(b.name));
    const body: StoreFile = { version: 1, workspaces: records };
    writeFileAtomicSync(this.file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600, createDir: true });
    this.cache = records;
  }

  private read(): WorkspaceRecord[] {
    let text: string | undefined;
    try {
      text = readTextIfExists(this.file);
    } catch (err) {
      throw damaged(this.file, 'it cannot be read', err);
    }
    if (text === undefined) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw damaged(this.file, 'it is not JSON', err);
    }
    const list = (parsed as Partial<StoreFile> | null)?.workspaces;
    if (!Array.isArray(list)) throw damaged(this.file, 'it has no "workspaces" list');
    return list.map((r: unknown, i) => {
      if (!isRecord(r)) throw damaged(this.file, `entry ${i + 1} is malformed`);
      return r;
    });
  }
}

function isRecord(v: unknown): v is WorkspaceRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const str = (k: string) => typeof r[k] === 'string';
  return (
    str('name') &&
    NAME_PATTERN.test(r.name as string) &&
    str('node') &&
    NAME_PATTERN.test(r.node as string) &&
    PROVIDERS.has(r.provider as string) &&
    str('sshHost') &&
    str('workspaceFolder') &&
    str('user') &&
    str('createdAt') &&
    (r.projectPath === undefined || str('projectPath')) &&
    (r.forwardAgent === undefined || typeof r.forwardAgent === 'boolean') &&
    (r.ports === undefined || isPortsConfig(r.ports))
  );
}

function isPortsConfig(v: unknown): boolean {
  const p = v as Partial<PortsConfig> | null;
  return typeof p === 'object' && p !== null && Array.isArray(p.forwardPorts) && Array.isArray(p.portsAttributes);
}

function damaged(file: string, why: string, cause?: unknown): VendettaError {
  return new VendettaError('REGISTRY_INVALID', `The workspace records in ${file} are damaged: ${why}`, {
    hint: `Fix or move the file away; the workspaces themselves are untouched on their nodes.`,
    cause,
  });
}
