/**
 * Sends a project into its workspace folder on the node, three-way: list the local files, ask
 * the node which synced paths the workspace changed since the last sync (`workspaces/syncScan`,
 * paged), decide per path (plan.ts), and stream only what the laptop alone changed as a tar
 * archive into the agent's receiver (receiver.ts) over the node's pooled connection. Bulk bytes
 * never go through JSON-RPC. The base record (syncState.ts) then holds what this sync left.
 */
import { pipeline } from 'node:stream/promises';
import type { CancellationToken } from 'vscode-jsonrpc';
import { fileContentId, SYNC_HEADER_ENTRY, type SyncHeader, type SyncSummary } from '../../agent/protocol';
import { VendettaError } from '../errors';
import type { AgentClient } from '../nodes/agentClient';
import { SYNC_CONFLICTS_LISTED, type SyncReport } from '../protocol';
import { contentIds, isExecutable, linkId } from './contentId';
import { listProjectFiles, statFiles, type LocalFile } from './fileList';
import { scanNode } from './nodeScan';
import { openReceiver } from './receiver';
import { laptopStatSame, pathsToHash, planSync } from './plan';
import type { SyncBase, SyncStateStore } from './syncState';
import { tarStream, type TarEntry } from './tarWriter';

export interface SyncOptions {
  client: AgentClient;
  node: string;
  workspace: string;
  /** The project folder on this machine. */
  root: string;
  state: SyncStateStore;
  /** Laptop wins: what the workspace changed too is replaced (and listed as such). */
  overwrite?: boolean;
  /** Only these paths (resolving a conflict); the rest of the base stays as it is. */
  only?: readonly string[];
  /** Paths never sent, whatever git or the ignore files say (the secrets file); a copy sent earlier is deleted. */
  never?: readonly string[];
  token?: CancellationToken;
}

const MAX_OUTPUT = 64 * 1024;

/** The receiver's own account of a failure: `{"error": {code, message, hint}}` on stdout. */
export function parseReceiverError(stdout: string): { code?: string; message: string; hint?: string } | undefined {
  for (const line of stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .reverse()) {
    try {
      const e = (JSON.parse(line) as { error?: { code?: unknown; message?: unknown; hint?: unknown } }).error;
      if (e && typeof e.message === 'string')
        return {
          message: e.message,
          ...(typeof e.code === 'string' ? { code: e.code } : {}),
          ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
        };
    } catch {
      // not JSON
    }
  }
  return undefined;
}

export function parseSummary(stdout: string): SyncSummary | undefined {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const v = JSON.parse(lines[i]!) as Partial<SyncSummary>;
      if (typeof v.written === 'number' && typeof v.deleted === 'number' && typeof v.bytes === 'number')
        return { written: v.written, deleted: v.deleted, bytes: v.bytes };
    } catch {
      // not the summary line
    }
  }
  return undefined;
}

async function localFiles(o: SyncOptions): Promise<LocalFile[]> {
  const files = o.only ? await statFiles(o.root, o.only) : (await listProjectFiles(o.root)).files;
  const never = new Set(o.never ?? []);
  return never.size ? files.filter((f) => !never.has(f.path)) : files;
}

export async function syncProject(o: SyncOptions): Promise<SyncReport> {
  const started = Date.now();
  const stored = o.state.load(o.node, o.workspace);
  const base: SyncBase = o.only
    ? new Map(o.only.flatMap((p) => (stored.has(p) ? [[p, stored.get(p)!] as const] : [])))
    : stored;
  // The base's paths are asked about while the local files are listed; paths new here after.
  const [local, node] = await Promise.all([localFiles(o), scanNode(o, [...base.keys()].sort(), base)]);
  const fresh = local.map((f) => f.path).filter((p) => !base.has(p));
  if (fresh.length > 0) for (const [p, n] of await scanNode(o, fresh, base)) node.set(p, n);
  const localIds = await contentIds(pathsToHash(local, base, node));
  const plan = planSync({ local, base, node, localIds, ...(o.overwrite ? { overwrite: true } : {}) });
  const report: SyncReport = {
    files: local.length,
    sent: plan.send.length,
    bytes: 0,
    deleted: plan.delete.length,
    kept: plan.kept,
    conflicts: plan.conflicts.slice(0, SYNC_CONFLICTS_LISTED),
    conflictCount: plan.conflicts.length,
    ...(o.overwrite
      ? { replaced: plan.replaced.slice(0, SYNC_CONFLICTS_LISTED), replacedCount: plan.replaced.length }
      : {}),
    elapsedMs: 0,
  };
  const next = plan.base;
  if (plan.send.length > 0 || plan.delete.length > 0) {
    const summary = await sendArchive(o, plan.delete, plan.send, (f, sha256) => {
      const id = f.kind === 'symlink' ? linkId(f.linkTarget ?? '') : fileContentId(sha256 ?? '', isExecutable(f.mode));
      next.set(f.path, { laptop: { size: f.size, mtimeMs: f.mtimeMs, mode: f.mode, id }, node: { id } });
    });
    report.bytes = plan.send.reduce((n, f) => n + (f.kind === 'file' ? f.size : 0), 0);
    report.deleted = summary.deleted;
  }
  if (o.only) {
    for (const p of o.only) {
      const e = next.get(p);
      if (e) stored.set(p, e);
      else stored.delete(p);
    }
  }
  o.state.save(o.node, o.workspace, o.only ? stored : next);
  report.elapsedMs = Date.now() - started;
  return report;
}

/**
 * "Keep the workspace's version" of a conflict: the base takes both sides as they are now, so
 * the path counts as changed by neither; the next laptop change to it is sent again.
 */
export async function keepWorkspaceVersion(o: Omit<SyncOptions, 'overwrite' | 'only'>, path: string): Promise<void> {
  const stored = o.state.load(o.node, o.workspace);
  const base: SyncBase = new Map(stored.has(path) ? [[path, stored.get(path)!]] : []);
  const [f] = await statFiles(o.root, [path]);
  const now = (await scanNode(o, [path], base)).get(path);
  const nodeNow = now
    ? now.id
      ? { id: now.id, ...(now.stat ? { stat: now.stat } : {}) }
      : undefined
    : base.get(path)?.node;
  const b = base.get(path);
  const localId = f && (laptopStatSame(f, b?.laptop) ? b!.laptop!.id : (await contentIds([f])).get(path));
  // A path the laptop no longer has is the workspace's own from now on: never compared again.
  if (f && localId)
    stored.set(path, {
      laptop: { size: f.size, mtimeMs: f.mtimeMs, mode: f.mode, id: localId },
      ...(nodeNow ? { node: nodeNow } : {}),
    });
  else stored.delete(path);
  o.state.save(o.node, o.workspace, stored);
}

function entries(header: SyncHeader, files: readonly LocalFile[]): TarEntry[] {
  const head = Buffer.from(JSON.stringify(header));
  const now = Date.now();
  return [
    { path: SYNC_HEADER_ENTRY, kind: 'file', size: head.length, mode: 0o600, mtimeMs: now, source: head },
    ...files.map(
      (f): TarEntry => ({
        path: f.path,
        kind: f.kind,
        size: f.kind === 'file' ? f.size : 0,
        mode: f.mode,
        mtimeMs: f.mtimeMs,
        mtimeNs: f.mtimeNs,
        linkTarget: f.linkTarget,
        source: f.abs,
      }),
    ),
  ];
}

async function sendArchive(
  o: SyncOptions,
  del: string[],
  send: LocalFile[],
  onSent: (f: LocalFile, sha256?: string) => void,
): Promise<SyncSummary> {
  const byPath = new Map(send.map((f) => [f.path, f]));
  const cmd = await openReceiver(o.client, o.workspace);
  const cancel = o.token?.onCancellationRequested(() => cmd.kill());
  let stdout = '';
  let stderr = '';
  cmd.stdout.setEncoding('utf8');
  cmd.stderr.setEncoding('utf8');
  cmd.stdout.on('data', (d: string) => {
    if (stdout.length < MAX_OUTPUT) stdout += d;
  });
  cmd.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-MAX_OUTPUT);
  });
  try {
    const onEntry = (e: TarEntry, _bytes: number, sha256?: string) => {
      const f = byPath.get(e.path);
      if (f) onSent(f, sha256);
    };
    const written = pipeline(tarStream(entries({ delete: del }, send), { hash: true, onEntry }), cmd.stdin).then(
      () => undefined,
      (err: unknown) => err,
    );
    const [code, writeError] = await Promise.all([cmd.exit, written]);
    if (o.token?.isCancellationRequested)
      throw new VendettaError('CANCELLED', `Code sync into ${o.workspace} was cancelled`, { node: o.node });
    const summary = parseSummary(stdout);
    if (code !== 0 || !summary) {
      const said = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const own = parseReceiverError(stdout);
      const why =
        own?.message ??
        said
          .find((l) => l.startsWith('error:'))
          ?.slice(6)
          .trim() ??
        said.at(-1) ??
        (writeError instanceof Error ? writeError.message : `exit code ${code}`);
      throw new VendettaError('SYNC_FAILED', `Sending the code to ${o.workspace} on ${o.node} failed: ${why}`, {
        node: o.node,
        hint:
          own?.hint ??
          said
            .find((l) => l.startsWith('hint:'))
            ?.slice(5)
            .trim() ??
          'Run `vendetta workspace up` again; only what is missing is sent.',
        cause: writeError instanceof Error ? writeError : undefined,
        details: { exitCode: code, ...(own?.code ? { receiverCode: own.code } : {}) },
      });
    }
    return summary;
  } finally {
    cancel?.dispose();
  }
}
