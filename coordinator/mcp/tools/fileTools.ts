/**
 * read_file, write_file, list_files: inside the workspace folder only. A path is checked twice:
 * on its text here (folderPaths.ts), then after symlinks are resolved in the workspace
 * (folderScripts.ts). Contents never reach the coordinator's log.
 */
import { z } from 'zod';
import { VendettaError } from '../../errors';
import { pathInFolder } from '../folderPaths';
import { listScript, parseListing, readScript, refusal, writeScript } from '../folderScripts';
import type { RunResult } from '../workspaceSessions';
import { refOf, tool, workspaceArg, type ToolContext, type ToolSpec } from './toolSpec';

const READ_DEFAULT = 256 * 1024;
const READ_MAX = 8 << 20;
const LIST_DEFAULT = 500;
const FILE_TIMEOUT_MS = 60_000;

/** A UTF-8 text without NUL bytes, or undefined for binary content. */
export function asText(bytes: Buffer, truncated: boolean): string | undefined {
  if (bytes.includes(0)) return undefined;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // A cut may split the last character: drop up to 3 trailing bytes before calling it binary.
  for (let drop = 0; drop <= (truncated ? 3 : 0); drop++) {
    try {
      return decoder.decode(bytes.subarray(0, bytes.length - drop));
    } catch {
      // try with one byte less
    }
  }
  return undefined;
}

async function runInFolder(
  ctx: ToolContext,
  a: { workspace: string; node?: string | undefined },
  script: (folder: string) => string,
  opts: { stdin?: Buffer; maxBytes: number },
): Promise<{ r: RunResult; folder: string; name: string; node: string }> {
  const ref = refOf(a);
  const session = await ctx.sessions.get(ref);
  const folder = session.info.workspaceFolder;
  const r = await ctx.sessions.run(ref, script(folder), { ...opts, timeoutMs: FILE_TIMEOUT_MS });
  return { r, folder, name: session.info.name, node: session.info.node };
}

function failure(
  r: RunResult,
  path: string,
  folder: string,
  what: 'a file' | 'a folder' | 'a file to write',
): VendettaError {
  const stderr = r.stderr.text();
  return (
    refusal(r.exitCode, path, folder, what, stderr) ??
    new VendettaError(
      'INTERNAL',
      `The workspace could not ${what === 'a file to write' ? 'write' : 'read'} ${JSON.stringify(path)}: ${stderr.trim().slice(0, 300) || `exit code ${r.exitCode}`}`,
      {
        hint: r.timedOut
          ? 'It took longer than a minute; use exec for large files.'
          : 'Check the path and its permissions with the exec tool.',
      },
    )
  );
}

export const fileTools: ToolSpec[] = [
  tool({
    name: 'read_file',
    title: 'Read a file',
    description:
      'Read a file inside the workspace\'s project folder (path relative to it); text as is, binary only with encoding "base64".',
    kind: 'read',
    input: {
      ...workspaceArg,
      path: z.string().min(1).describe('File path, relative to the project folder (or absolute inside it).'),
      encoding: z
        .enum(['utf8', 'base64'])
        .optional()
        .describe('"utf8" (default; binary files are refused) or "base64".'),
      maxBytes: z
        .number()
        .int()
        .min(1)
        .max(READ_MAX)
        .optional()
        .describe(`Read at most this many bytes (default ${READ_DEFAULT}).`),
    },
    async run(a, ctx) {
      const max = a.maxBytes ?? READ_DEFAULT;
      const { r, folder, name, node } = await runInFolder(ctx, a, (f) => readScript(f, pathInFolder(f, a.path), max), {
        maxBytes: max + 64,
      });
      if (r.exitCode !== 0) throw failure(r, a.path, folder, 'a file');
      const out = r.stdout.bytes();
      const nl = out.indexOf(10);
      const size = Number(out.subarray(0, nl).toString().trim());
      const bytes = out.subarray(nl + 1);
      const truncated = size > bytes.length;
      const note = truncated
        ? `\n[… cut: the file has ${size} bytes, this is the first ${bytes.length}; raise maxBytes or use exec …]`
        : '';
      if (a.encoding === 'base64') {
        const content = bytes.toString('base64');
        return {
          text: content + note,
          structured: { path: a.path, size, encoding: 'base64', truncated, content },
          workspace: name,
          node,
        };
      }
      const content = asText(bytes, truncated);
      if (content === undefined) {
        throw new VendettaError('INVALID_PARAMS', `${JSON.stringify(a.path)} is a binary file (${size} bytes)`, {
          hint: 'Ask again with encoding "base64" to get its bytes.',
        });
      }
      return {
        text: content + note,
        structured: { path: a.path, size, encoding: 'utf8', truncated, content },
        workspace: name,
        node,
      };
    },
  }),
  tool({
    name: 'write_file',
    title: 'Write a file',
    description:
      "Write (create or replace) a file inside the workspace's project folder, making missing parent folders; content as text or base64.",
    kind: 'write',
    input: {
      ...workspaceArg,
      path: z.string().min(1).describe('File path, relative to the project folder (or absolute inside it).'),
      content: z
        .string()
        .max(16 << 20)
        .describe('The whole new content.'),
      encoding: z
        .enum(['utf8', 'base64'])
        .optional()
        .describe('How content is encoded: "utf8" (default) or "base64" for binary.'),
    },
    async run(a, ctx) {
      const data = a.encoding === 'base64' ? Buffer.from(a.content, 'base64') : Buffer.from(a.content, 'utf8');
      const { r, folder, name, node } = await runInFolder(ctx, a, (f) => writeScript(f, pathInFolder(f, a.path)), {
        stdin: data,
        maxBytes: 4096,
      });
      if (r.exitCode !== 0) throw failure(r, a.path, folder, 'a file to write');
      const size = Number(r.stdout.text().trim());
      return { text: `wrote ${size} bytes to ${a.path}`, structured: { path: a.path, size }, workspace: name, node };
    },
  }),
  tool({
    name: 'list_files',
    title: 'List files',
    description:
      "List the files and folders inside the workspace's project folder (or a folder below it), with type and size; depth 1 unless asked.",
    kind: 'read',
    input: {
      ...workspaceArg,
      path: z
        .string()
        .optional()
        .describe('Folder, relative to the project folder; default the project folder itself.'),
      depth: z.number().int().min(1).max(10).optional().describe('How many levels down (default 1).'),
      maxEntries: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .optional()
        .describe(`At most this many entries (default ${LIST_DEFAULT}).`),
    },
    async run(a, ctx) {
      const max = a.maxEntries ?? LIST_DEFAULT;
      const path = a.path ?? '.';
      const { r, folder, name, node } = await runInFolder(
        ctx,
        a,
        (f) => listScript(f, pathInFolder(f, path), a.depth ?? 1, max + 1),
        { maxBytes: 64 << 20 },
      );
      if (r.exitCode !== 0) throw failure(r, path, folder, 'a folder');
      const all = parseListing(r.stdout.bytes());
      const entries = all.slice(0, max);
      const truncated = all.length > max;
      const lines = entries.map(
        (e) =>
          `${e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : e.type === 'file' ? '-' : '?'} ${String(e.size).padStart(10)} ${e.path}${e.target !== undefined ? ` -> ${e.target}` : ''}`,
      );
      if (truncated) lines.push(`[… more than ${max} entries; list a sub-folder or raise maxEntries …]`);
      return {
        text: lines.join('\n') || '(empty folder)',
        structured: { path, entries, truncated },
        workspace: name,
        node,
      };
    },
  }),
];
