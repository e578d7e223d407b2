/**
 * code-server 4.100.3 (VS Code 1.100.3, the last release that runs on Node 20) installed outside
 * the project's dependencies, in the git-ignored `.tools/` folder, once per machine (~80 s cold,
 * then free). TEST-INFRA.md: a local npm install (a global one races), and @vscode/ripgrep's
 * postinstall gets a cached tarball of Debian's rg instead of downloading one.
 * Two runs installing at once each install into their own temp folder; the first rename wins.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pidAlive } from './sys';

export const CODE_SERVER_VERSION = '4.100.3';
/**
 * Kept per machine, like the built images, not per clone: the install builds native modules and
 * takes minutes, which every fresh clone's test run would pay again. Keyed by Node's module ABI,
 * which those native modules are built for.
 */
export const TOOLS_DIR = process.env.VENDETTA_TOOLS_CACHE || join(homedir(), '.cache/vendetta/tools');
const INSTALL_DIR = join(TOOLS_DIR, `code-server-${CODE_SERVER_VERSION}-node-abi${process.versions.modules}`);
const RIPGREP_CACHE = 'vscode-ripgrep-cache-1.15.11';
const RIPGREP_TARBALL = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

export interface CodeServerInstall {
  /** `node <entry>` starts code-server. */
  entry: string;
  installed: boolean;
  installMs: number;
}

const entryOf = (dir: string) => join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function installedVersion(dir: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', 'code-server', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return existsSync(join(dir, '.complete')) && existsSync(entryOf(dir)) ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/** Half-finished installs of runs that died (their pid is in the folder name). */
function removeStaleInstalls(): void {
  if (!existsSync(TOOLS_DIR)) return;
  for (const name of readdirSync(TOOLS_DIR)) {
    const m = /^code-server-install-(\d+)-/.exec(name);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(TOOLS_DIR, name), { recursive: true, force: true });
  }
}

/**
 * Native modules whose prebuilt binary cannot be fetched (GitHub is out of reach here) fall back to
 * node-gyp, which downloads Node's headers from nodejs.org, also out of reach. The headers that come
 * with this Node (`<prefix>/include/node`) serve instead.
 */
function nodeHeaders(): Record<string, string> {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? { npm_config_nodedir: prefix } : {};
}

export function ensureCodeServer(): CodeServerInstall {
  if (installedVersion(INSTALL_DIR) === CODE_SERVER_VERSION)
    return { entry: entryOf(INSTALL_DIR), installed: false, installMs: 0 };
  mkdirSync(TOOLS_DIR, { recursive: true });
  // One install at a time across processes (the run's prewarm and a test may both ask).
  return withInstallLock(join(TOOLS_DIR, `${basename(INSTALL_DIR)}.lock`), () =>
    installedVersion(INSTALL_DIR) === CODE_SERVER_VERSION
      ? { entry: entryOf(INSTALL_DIR), installed: false, installMs: 0 }
      : install(),
  );
}

/** An exclusive lock file holding our pid, waited for synchronously; a dead owner's is taken over. */
function withInstallLock<T>(file: string, fn: () => T): T {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim() || '0');
      if (owner && !pidAlive(owner)) rmSync(file, { force: true });
      else Atomics.wait(nap, 0, 0, 500);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(file, { force: true });
  }
}

function install(): CodeServerInstall {
  const t0 = Date.now();
  removeStaleInstalls();
  const rg = ['/usr/bin/rg', '/bin/rg'].find((p) => existsSync(p));
  if (!rg)
    throw new Error('code-server needs ripgrep: /usr/bin/rg is missing (test/infra/setup.sh installs it as root)');
  const work = mkdtempSync(join(TOOLS_DIR, `code-server-install-${process.pid}-`));
  try {
    const tmp = join(work, 'tmp');
    mkdirSync(join(tmp, RIPGREP_CACHE), { recursive: true });
    const tar = spawnSync(
      'tar',
      ['-czf', join(tmp, RIPGREP_CACHE, RIPGREP_TARBALL), '-C', rg.replace(/\/rg$/, ''), 'rg'],
      { encoding: 'utf8' },
    );
    if (tar.status !== 0) throw new Error(`packing rg for @vscode/ripgrep failed: ${tar.stderr}`);
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'vendetta-test-code-server', private: true }));
    const npm = spawnSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-save', `code-server@${CODE_SERVER_VERSION}`],
      {
        cwd: work,
        encoding: 'utf8',
        timeout: 600_000,
        env: {
          ...process.env,
          TMPDIR: tmp,
          npm_config_unsafe_perm: 'true',
          npm_config_yes: 'true',
          npm_config_update_notifier: 'false',
          ...nodeHeaders(),
        },
      },
    );
    if (npm.status !== 0)
      throw new Error(
        `npm install code-server@${CODE_SERVER_VERSION} failed (${npm.error?.message ?? `exit ${npm.status}`}):\n${(npm.stderr ?? '').slice(-3000)}`,
      );
    if (!existsSync(entryOf(work)))
      throw new Error(`code-server@${CODE_SERVER_VERSION} installed without ${entryOf(work)}`);
    rmSync(tmp, { recursive: true, force: true });
    writeFileSync(join(work, '.complete'), new Date().toISOString());
    try {
      renameSync(work, INSTALL_DIR);
    } catch (err) {
      // Another run finished first: use theirs.
      if (installedVersion(INSTALL_DIR) !== CODE_SERVER_VERSION) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { entry: entryOf(INSTALL_DIR), installed: true, installMs: Date.now() - t0 };
}
