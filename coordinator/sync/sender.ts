/**
 * Sends a project into its workspace folder on the node: list the local files, ask the node
 * what it has (`workspaces/manifest`), and stream only the difference as a tar archive into
 * `agent.js sync-receive <workspace>` over the node's pooled connection. Bulk bytes never go
 * through JSON-RPC.
 */
import { pipeline } from 'node:stream/promises';
import type { CancellationToken } from 'vscode-jsonrpc';
import { SYNC_HEADER_ENTRY, SyncManifest, type ManifestEntry, type SyncHeader, type SyncSummary } from '../../agent/protocol';
import { VendettaError } from '../errors';
import type { AgentClient } from '../nodes/agentClient';
import type { SyncReport } from '../protocol';
import { planSync, type SyncedEntry } from './diff';
import { listProjectFiles, type LocalFile } from './fileList';
import type { SyncStateStore } from './syncState';
import { tarStream, type TarEntry } from './tarWriter';

export interface SyncOptions {
  client: AgentClient;
  node: string;
  workspace: string;
  /** The project folder on this machine. */
  root: string;
  state: SyncStateStore;
  token?: CancellationToken;
}

const MAX_OUTPUT = 64 * 1024;

export function checkManifest(reply: unknown, node: string): ManifestEntry[] {
  const files = (reply as { files?: unknown } | null)?.files;
  const bad = () => new VendettaError('AGENT_ERROR', `The agent on ${node} sent a malformed sync manifest`, { node, hint: 'Upgrade vendetta so the coordinator and the agent match.' });
  if (!Array.isArray(files)) throw bad();
  return files.map((f: unknown) => {
    const e = f as Partial<ManifestEntry> | null;
    if (!e || typeof e.path !== 'string' || typeof e.size !== 'number' || typeof e.mtimeMs !== 'number' || typeof e.mode !== 'number') throw bad();
    return { path: e.path, size: e.size, mtimeMs: e.mtimeMs, mode: e.mode };
  });
}

/** The receiver's own account of a failure: `{"error": {code, message, hint}}` on stdout. */
export function parseReceiverError(stdout: string): { code?: string; message: string; hint?: string } | undefined {
  for (const line of stdout.split('\n').map((l) => l.trim()).filter(Boolean).reverse()) {
    try {
      const e = (JSON.parse(line) as { error?: { code?: unknown; message?: unknown; hint?: unknown } }).error;
      if (e && typeof e.message === 'string') return { message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}), ...(typeof e.hint === 'string' ? { hint: e.hint } : {}) };
    } catch {
      // not JSON
    }
  }
  return undefined;
}

export function parseSummary(stdout: string): SyncSummary | undefined {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const v = JSON.parse(lines[i]!) as Partial<SyncSummary>;
      if (typeof v.written === 'number' && typeof v.deleted === 'number' && typeof v.bytes === 'number') return { written: v.written, deleted: v.deleted, bytes: v.bytes };
    } catch {
      // not the summary line
    }
  }
  return undefined;
}

function entries(header: SyncHeader, files: readonly LocalFile[]): TarEntry[] {
  const head = Buffer.from(JSON.stringify(header));
  const now = Date.now();
  return [
    { path: SYNC_HEADER_ENTRY, kind: 'file', size: head.length, mode: 0o600, mtimeMs: now, source: head },
    ...files.map((f): TarEntry => ({ path: f.path, kind: f.kind, size: f.kind === 'file' ? f.size : 0, mode: f.mode, mtimeMs: f.mtimeMs, mtimeNs: f.mtimeNs, linkTarget: f.linkTarget, source: f.abs })),
  ];
}

export async function syncProject(o: SyncOptions): Promise<SyncReport> {
  const started = Date.now();
  const [local, manifest] = await Promise.all([
    listProjectFiles(o.root),
    o.client.request(SyncManifest, { name: o.workspace }, o.token).then((r) => checkManifest(r, o.node)),
  ]);
  const plan = planSync(local.files, manifest, o.state.load(o.node, o.workspace));
  const report: SyncReport = { files: local.files.length, sent: plan.send.length, bytes: 0, deleted: plan.delete.length, elapsedMs: 0 };
  if (plan.send.length > 0 || plan.delete.length > 0) {
    const summary = await sendArchive(o, plan.delete, plan.send);
    report.bytes = plan.send.reduce((n, f) => n + (f.kind === 'file' ? f.size : 0), 0);
    report.deleted = summary.deleted;
  }
  o.state.save(o.node, o.workspace, new Map<string, SyncedEntry>(local.files.map((f) => [f.path, { size: f.size, mtimeMs: f.mtimeMs }])));
  report.elapsedMs = Date.now() - started;
  return report;
}

async function sendArchive(o: SyncOptions, del: string[], send: LocalFile[]): Promise<SyncSummary> {
  const cmd = await o.client.runAgentCommand(['sync-receive', o.workspace]);
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
    const sent = pipeline(tarStream(entries({ delete: del }, send)), cmd.stdin).then(() => undefined, (err: unknown) => err);
    const [code, writeError] = await Promise.all([cmd.exit, sent]);
    if (o.token?.isCancellationRequested) throw new VendettaError('CANCELLED', `Code sync into ${o.workspace} was cancelled`, { node: o.node });
    const summary = parseSummary(stdout);
    if (code !== 0 || !summary) {
      const said = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
      const own = parseReceiverError(stdout);
      const why = own?.message ?? said.find((l) => l.startsWith('error:'))?.slice(6).trim() ?? said.at(-1) ?? (writeError instanceof Error ? writeError.message : `exit code ${code}`);
      throw new VendettaError('SYNC_FAILED', `Sending the code to ${o.workspace} on ${o.node} failed: ${why}`, {
        node: o.node,
        hint: own?.hint ?? said.find((l) => l.startsWith('hint:'))?.slice(5).trim() ?? 'Run `vendetta workspace up` again; only what is missing is sent.',
        cause: writeError instanceof Error ? writeError : undefined,
        details: { exitCode: code, ...(own?.code ? { receiverCode: own.code } : {}) },
      });
    }
    return summary;
  } finally {
    cancel?.dispose();
  }
}
