/**
 * The SSH server the agent brings into a workspace whose image has none: the node's own OpenSSH
 * `sshd`, copied with every shared library it loads (as `ldd` lists them, the dynamic loader
 * included) into one folder in the agent home, which a provider mounts read-only into the
 * workspace at /.vendetta/sshd. It runs through that loader explicitly, so nothing of the image
 * is used to start it: no network, no package, no libc inside. `-r` keeps it from re-executing
 * itself per connection (the re-exec would go through the image's loader, which may not exist);
 * internal-sftp serves SFTP in-process. It needs its privilege-separation user in the image's
 * /etc/passwd, which sshdAccountFiles adds when missing.
 *
 * A copy, not mounts of the node's files: an upgrade of the node's OpenSSH while a workspace runs
 * cannot mix versions inside it, and the folder's name is the hash of what it holds.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AgentError } from '../errors';
import type { BroughtSshServer, WorkspaceFile } from './contract';

export const BROUGHT_SSHD_MOUNT = '/.vendetta/sshd';
export const NODE_SSHD = '/usr/sbin/sshd';
/** OpenSSH 9.8 and later run each connection as a separate program it finds by a built-in path. */
const SESSION_BINARIES = [
  '/usr/lib/openssh/sshd-session',
  '/usr/libexec/openssh/sshd-session',
  '/usr/libexec/sshd-session',
];
export const PRIVSEP_USER = 'sshd';

export interface LddLibrary {
  /** The name the binary asks for (its soname), under which it is copied. */
  name: string;
  path: string;
}

/**
 * `ldd` output → the libraries and the loader. A library `not found` on the node is an error:
 * the node's own sshd could not start either.
 */
export function parseLdd(text: string): { libraries: LddLibrary[]; loader: string } {
  const libraries: LddLibrary[] = [];
  let loader: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const missing = /^(\S+) => not found$/.exec(line);
    if (missing) throw new Error(`the library ${missing[1]} is not found`);
    const linked = /^(\S+) => (\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (linked) {
      libraries.push({ name: linked[1]!, path: linked[2]! });
      continue;
    }
    const direct = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (direct && basename(direct[1]!).startsWith('ld-')) loader = direct[1]!;
  }
  if (!loader) throw new Error('ldd names no dynamic loader (a static or foreign binary)');
  return { libraries, loader };
}

/** The argv that runs the brought server inside the workspace, in the foreground, logging to stderr. */
export function broughtSshdArgv(loaderName: string, configPath: string): string[] {
  const m = BROUGHT_SSHD_MOUNT;
  return [`${m}/${loaderName}`, '--library-path', `${m}/lib`, `${m}/sshd`, '-D', '-e', '-r', '-f', configPath];
}

const nameOf = (line: string): string => line.split(':')[0] ?? '';

/**
 * What the brought sshd needs in the image's account files: root (the login sessions' user
 * lookup) and the privilege-separation user. Only missing lines are added; nothing the image
 * has changes. Undefined: the file is not in the image.
 */
export function sshdAccountFiles(passwd: string | undefined, group: string | undefined): WorkspaceFile[] {
  const users = (passwd ?? '').split('\n').filter((l) => l.trim() !== '');
  const groups = (group ?? '').split('\n').filter((l) => l.trim() !== '');
  const files: WorkspaceFile[] = [];
  const has = (lines: string[], name: string): boolean => lines.some((l) => nameOf(l) === name);
  const addUsers: string[] = [];
  if (!has(users, 'root')) addUsers.push('root:x:0:0:root:/root:/bin/sh');
  if (!has(users, PRIVSEP_USER)) {
    const taken = new Set(users.map((l) => Number(l.split(':')[2])));
    let uid = 100;
    while (taken.has(uid)) uid++;
    addUsers.push(`${PRIVSEP_USER}:x:${uid}:65534:sshd privilege separation:/run/sshd:/bin/false`);
  }
  const addGroups = has(groups, 'root') ? [] : ['root:x:0:'];
  const joined = (lines: string[], extra: string[]): string => [...lines, ...extra].join('\n') + '\n';
  if (addUsers.length > 0 || passwd === undefined)
    files.push({ path: '/etc/passwd', type: 'file', mode: 0o644, content: joined(users, addUsers) });
  if (addGroups.length > 0 || group === undefined)
    files.push({ path: '/etc/group', type: 'file', mode: 0o644, content: joined(groups, addGroups) });
  if (files.length > 0) files.unshift({ path: '/etc', type: 'directory', mode: 0o755 });
  // A root the agent adds gets its home folder too (sshd starts sessions there).
  if (!has(users, 'root')) files.push({ path: '/root', type: 'directory', mode: 0o700 });
  return files;
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: 15_000, maxBuffer: 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

function cannotBring(why: string, cause?: unknown): AgentError {
  return new AgentError(
    'SSHD_MISSING',
    `The image has no OpenSSH server, and the node's cannot be brought into it: ${why}`,
    {
      hint: 'Install openssh-server on the node (it needs no service running: only its sshd binary is used), or use an image with openssh-server.',
      ...(cause !== undefined ? { cause } : {}),
    },
  );
}

/** Packs done by this process, by home, binary and the binary's identity: an upgraded sshd packs again. */
const packed = new Map<string, Promise<{ dir: string; loaderName: string }>>();

/** Packs the node's sshd into `<home>/sshd/<hash>` (once per content) and says how to run it with `configPath`. */
export async function packNodeSshd(home: string, configPath: string, sshd = NODE_SSHD): Promise<BroughtSshServer> {
  let key: string;
  try {
    const st = statSync(sshd);
    key = [home, sshd, st.ino, st.size, st.mtimeMs].join('\0');
  } catch {
    throw cannotBring(`${sshd} is not on the node`);
  }
  let done = packed.get(key);
  if (!done) {
    done = pack(home, sshd);
    packed.set(key, done);
    done.catch(() => packed.delete(key));
  }
  const { dir, loaderName } = await done;
  return { nodeDir: dir, mountPath: BROUGHT_SSHD_MOUNT, argv: broughtSshdArgv(loaderName, configPath) };
}

async function pack(home: string, sshd: string): Promise<{ dir: string; loaderName: string }> {
  const split = SESSION_BINARIES.find((p) => existsSync(p));
  if (split)
    throw cannotBring(
      `this OpenSSH runs each session as a separate program (${split}), which cannot start inside an image without its libraries`,
    );
  let listed: { libraries: LddLibrary[]; loader: string };
  try {
    listed = parseLdd(await run('ldd', [sshd]));
  } catch (err) {
    throw cannotBring(`ldd could not list what ${sshd} loads`, err);
  }
  const files = new Map<string, Buffer>([['sshd', readFileSync(sshd)]]);
  const loaderName = basename(listed.loader);
  files.set(loaderName, readFileSync(listed.loader));
  for (const lib of listed.libraries) files.set(`lib/${lib.name}`, readFileSync(lib.path));
  // Before glibc 2.34 user lookups dlopen libnss_files; from 2.34 it is part of libc.
  const libc = listed.libraries.find((l) => l.name.startsWith('libc.so'));
  const nss = libc ? join(dirname(libc.path), 'libnss_files.so.2') : undefined;
  if (nss && existsSync(nss)) files.set('lib/libnss_files.so.2', readFileSync(nss));
  const hash = createHash('sha256');
  for (const [name, data] of [...files].sort(([a], [b]) => a.localeCompare(b)))
    hash.update(`${name}\0${data.length}\0`).update(data);
  const root = join(home, 'sshd');
  const dir = join(root, hash.digest('hex').slice(0, 24));
  if (!existsSync(join(dir, 'sshd'))) writeBundle(root, dir, files);
  return { dir, loaderName };
}

/** Writes the files into a fresh folder beside `dir`, then renames it into place (a concurrent pack wins as well). */
function writeBundle(root: string, dir: string, files: Map<string, Buffer>): void {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const tmp = join(root, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(join(tmp, 'lib'), { recursive: true, mode: 0o755 });
    for (const [name, data] of files) writeFileSync(join(tmp, name), data, { mode: 0o755 });
    chmodSync(tmp, 0o755);
    renameSync(tmp, dir);
  } catch (err) {
    if (!existsSync(join(dir, 'sshd'))) throw cannotBring(`could not write ${dir}`, err);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
