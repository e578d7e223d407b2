/**
 * The file-system side of config loading: find a project's config, read it within the size
 * limit, and hand the text to the pure validators. Every failure is a diagnostic, never a throw.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Diagnostic, fileDiagnostic } from './diagnostics';
import { devcontainerVarsFor, validateDevcontainerText } from './devcontainer';
import { type NodesFile, validateNodesText } from './nodes';
import { MAX_CONFIG_BYTES, decodeConfigBytes, tooLarge } from './textGuards';
import type { WorkspaceConfig } from './types';
import { validateWorkspaceConfigText } from './workspace';

export const CONFIG_PATH = join('.vendetta', 'config.yaml');
export const DEVCONTAINER_PATHS = [join('.devcontainer', 'devcontainer.json'), '.devcontainer.json'];

export interface LoadedWorkspaceConfig {
  file: string;
  config?: WorkspaceConfig;
  diagnostics: Diagnostic[];
  source: 'vendetta' | 'devcontainer';
}

/** Reads a config file as text: refused unread when over the size limit, refused when not UTF-8. */
export async function readConfigFile(file: string): Promise<{ text?: string; diagnostics: Diagnostic[] }> {
  try {
    const st = await stat(file);
    if (st.isDirectory())
      return {
        diagnostics: [
          fileDiagnostic(file, {
            code: 'not-found',
            message: 'this is a folder, not a config file',
            hint: 'give the path of the config file or of the project folder',
          }),
        ],
      };
    if (st.size > MAX_CONFIG_BYTES) return { diagnostics: [tooLarge(file, st.size)] };
    // Read at most one byte past the limit, in case the file grew after stat.
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
      let n = 0;
      while (n < buf.length) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return decodeConfigBytes(buf.subarray(0, n), file);
    } finally {
      await fh.close();
    }
  } catch (err) {
    return { diagnostics: [ioDiagnostic(file, err)] };
  }
}

function ioDiagnostic(file: string, err: unknown): Diagnostic {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT')
    return fileDiagnostic(file, { code: 'not-found', message: 'no such file or folder', hint: 'check the path' });
  if (code === 'EACCES' || code === 'EPERM')
    return fileDiagnostic(file, {
      code: 'not-found',
      message: 'permission denied reading the file',
      hint: 'check the file permissions',
    });
  const message = err instanceof Error ? err.message : String(err);
  return fileDiagnostic(file, { code: 'not-found', message: `cannot read the file: ${message}` });
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads a workspace config from a file, or from a project folder: `.vendetta/config.yaml`, else
 * `.devcontainer/devcontainer.json` (or `.devcontainer.json`). Paths in diagnostics are built
 * from the path given, so they read the way the user typed them.
 */
export async function loadWorkspaceConfig(
  pathOrProjectDir: string,
  opts: LoadOptions = {},
): Promise<LoadedWorkspaceConfig> {
  const p = pathOrProjectDir;
  const loadFile = (file: string, source: 'vendetta' | 'devcontainer', folderName: string) =>
    loadOne(file, source, folderName, opts);
  let isDir: boolean;
  try {
    isDir = (await stat(p)).isDirectory();
  } catch (err) {
    return { file: p, diagnostics: [ioDiagnostic(p, err)], source: 'vendetta' };
  }
  if (!isDir) return loadFile(p, isDevcontainerFile(p) ? 'devcontainer' : 'vendetta', folderNameOf(p));

  const candidates = [CONFIG_PATH, ...(basename(p) === '.vendetta' ? ['config.yaml'] : [])];
  for (const rel of candidates) {
    const file = join(p, rel);
    if (await exists(file)) return loadFile(file, 'vendetta', folderNameOf(file));
  }
  for (const rel of DEVCONTAINER_PATHS) {
    const file = join(p, rel);
    if (await exists(file)) return loadFile(file, 'devcontainer', folderNameOf(file));
  }
  const named = await namedDevcontainers(p);
  if (named.length === 1) return loadFile(join(p, named[0]!), 'devcontainer', folderNameOf(join(p, named[0]!)));
  if (named.length > 1) {
    return {
      file: p,
      source: 'devcontainer',
      diagnostics: [
        fileDiagnostic(p, {
          code: 'several-configs',
          message: `this project has ${named.length} devcontainer configs: ${named.join(', ')}`,
          hint: `choose one with --config, e.g. \`vendetta up --config ${named[0]}\``,
        }),
      ],
    };
  }
  return {
    file: p,
    source: 'vendetta',
    diagnostics: [
      fileDiagnostic(p, {
        code: 'no-config',
        message: `no ${CONFIG_PATH} or ${DEVCONTAINER_PATHS[0]} in this folder`,
        hint: `create ${CONFIG_PATH} (examples/hello/.vendetta/config.yaml is a small complete one)`,
      }),
    ],
  };
}

export interface LoadOptions {
  /** For devcontainer.json's `${localEnv:…}`: the environment of whoever runs `up`; this process's when absent. */
  env?: Readonly<Record<string, string | undefined>>;
}

async function loadOne(
  file: string,
  source: 'vendetta' | 'devcontainer',
  folderName: string,
  opts: LoadOptions,
): Promise<LoadedWorkspaceConfig> {
  const read = await readConfigFile(file);
  if (read.text === undefined) return { file, diagnostics: read.diagnostics, source };
  const result =
    source === 'devcontainer'
      ? validateDevcontainerText(read.text, file, folderName, devcontainerVarsFor(file, opts.env ?? process.env))
      : validateWorkspaceConfigText(read.text, file);
  return { file, ...result, source };
}

/** Reads and validates a nodes.yaml; a missing file is an empty registry. */
export async function loadNodesFile(file: string): Promise<{ nodes?: NodesFile; diagnostics: Diagnostic[] }> {
  if (!(await exists(file))) return { nodes: { nodes: [] }, diagnostics: [] };
  const read = await readConfigFile(file);
  if (read.text === undefined) return { diagnostics: read.diagnostics };
  return validateNodesText(read.text, file);
}

export function isDevcontainerFile(file: string): boolean {
  const name = basename(file);
  return name === 'devcontainer.json' || name === '.devcontainer.json';
}

/**
 * The name a workspace gets when its config names none: the project folder's (the parent of
 * `.vendetta/` or `.devcontainer/`, else the file's folder); for `.devcontainer/<config>/`, the
 * project's and the config's, so two configs of one project make two workspaces.
 */
function folderNameOf(file: string): string {
  let dir = dirname(file);
  let config = '';
  if (basename(dirname(dir)) === '.devcontainer') {
    config = `-${basename(dir)}`;
    dir = dirname(dirname(dir));
  } else if (basename(dir) === '.vendetta' || basename(dir) === '.devcontainer') dir = dirname(dir);
  return basename(dir === '.' ? process.cwd() : dir) + config;
}

/** `.devcontainer/<name>/devcontainer.json` files of a project, relative to it, sorted. */
export async function namedDevcontainers(projectDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(join(projectDir, '.devcontainer'), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort())
    if (await exists(join(projectDir, '.devcontainer', n, 'devcontainer.json')))
      out.push(join('.devcontainer', n, 'devcontainer.json'));
  return out;
}

/**
 * Every config a project could come up from, relative to it: `.vendetta/config.yaml`, then
 * `.devcontainer/devcontainer.json` or `.devcontainer.json`, then each `.devcontainer/<name>/`
 * one. With more than one, VS Code asks which (the CLI takes `--config`).
 */
export async function configChoices(projectDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const rel of [CONFIG_PATH, ...DEVCONTAINER_PATHS]) if (await exists(join(projectDir, rel))) out.push(rel);
  return [...out, ...(await namedDevcontainers(projectDir))];
}
