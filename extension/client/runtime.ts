/**
 * The JavaScript runtime that runs the bundled CLI (coordinator, ssh-config install): a `node`
 * (>= 20) found on PATH, else VS Code's own runtime with ELECTRON_RUN_AS_NODE=1, so nothing has
 * to be installed besides the extension. The coordinator writes the same runtime into every
 * ssh_config ProxyCommand (it uses its own process.execPath).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import * as path from 'node:path';

export interface NodeRuntime {
  /** Absolute path of the executable. */
  command: string;
  /** Extra environment it needs (ELECTRON_RUN_AS_NODE for VS Code's runtime). */
  env: Record<string, string>;
  /** For the log: `node v20.19.0 at /usr/bin/node`. */
  description: string;
}

export const MIN_NODE_MAJOR = 20;

export interface RuntimeProbe {
  pathEnv: string | undefined;
  /** The extension host's own executable (Electron, or code-server's node). */
  execPath: string;
  /** Reads `<cmd> --version`; injected so tests need not spawn. */
  version?: (command: string) => Promise<string | undefined>;
}

export async function findOnPath(name: string, pathEnv: string | undefined): Promise<string | undefined> {
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      if (!(await stat(candidate)).isFile()) continue;
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function nodeVersionOf(command: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      command,
      ['--version'],
      { timeout: 5000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
      (err, stdout) => {
        resolve(err ? undefined : stdout.trim());
      },
    );
  });
}

export function majorOf(version: string | undefined): number | undefined {
  const m = /^v?(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : undefined;
}

export async function findNodeRuntime(probe: RuntimeProbe): Promise<NodeRuntime> {
  const readVersion = probe.version ?? nodeVersionOf;
  const onPath = await findOnPath('node', probe.pathEnv);
  if (onPath) {
    const version = await readVersion(onPath);
    const major = majorOf(version);
    if (major !== undefined && major >= MIN_NODE_MAJOR)
      return { command: onPath, env: {}, description: `node ${version} at ${onPath}` };
  }
  return {
    command: probe.execPath,
    env: { ELECTRON_RUN_AS_NODE: '1' },
    description: `VS Code's runtime at ${probe.execPath} (ELECTRON_RUN_AS_NODE=1)`,
  };
}
