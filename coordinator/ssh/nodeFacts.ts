/**
 * What a node is, as far as bringing it what it lacks goes: kernel, machine, C library, package
 * manager, whether the SSH user is root or has sudo without a password, and which provider tools
 * it already has. One read-only script; the node prints raw facts and the parsing and judging
 * happen here, in pure functions.
 */
import type { Client } from 'ssh2';
import { execCollect } from './exec';
import { PLATFORM_FACTS, PROBE_PREFIX } from './remoteScripts';
import { shScript } from './shellQuote';

export type PackageManager = 'apt' | 'dnf' | 'zypper' | 'apk';
export type SudoState = 'root' | 'passwordless' | 'password' | 'none';
export type Libc = { family: 'glibc'; version: string } | { family: 'musl' } | { family: 'unknown' };

export interface NodeFacts {
  os: string;
  /** `uname -m`. */
  arch: string;
  libc: Libc;
  user: string;
  uid: number;
  groups: string[];
  sudo: SudoState;
  packageManager?: PackageManager;
  /** /etc/os-release ID and VERSION_ID ("debian", "12"), PRETTY_NAME. */
  distro: { id: string; version: string; name: string };
  systemd: boolean;
  /** PID 1's name (`/proc/1/comm`: systemd, init, openrc-init, sh…); empty when unreadable. */
  init: string;
  /** Provider commands found on PATH (and in /usr/sbin, /sbin). */
  commands: string[];
}

/** What decides whether a Node.js built elsewhere runs on the node. */
export type PlatformFacts = Pick<NodeFacts, 'os' | 'arch' | 'libc'>;

/** The provider tools whose presence `node prepare` looks at. */
export const PROVIDER_COMMANDS = [
  'docker',
  'dockerd',
  'lxd',
  'lxc',
  'incus',
  'qemu-system-x86_64',
  'qemu-img',
  'cloud-localds',
] as const;

const P = PROBE_PREFIX;

/** Read-only: prints one prefixed line per fact. */
export const FACTS_SCRIPT = [
  'PATH="$PATH:/usr/sbin:/sbin"',
  ...PLATFORM_FACTS,
  `echo "${P}user $(id -un 2>/dev/null) $(id -u 2>/dev/null)"`,
  `echo "${P}groups $(id -nG 2>/dev/null)"`,
  `if [ "$(id -u)" = 0 ]; then echo "${P}sudo root"; elif command -v sudo >/dev/null 2>&1; then if sudo -n true >/dev/null 2>&1; then echo "${P}sudo passwordless"; else echo "${P}sudo password"; fi; else echo "${P}sudo none"; fi`,
  `for m in apt-get dnf zypper apk; do if command -v $m >/dev/null 2>&1; then echo "${P}pm $m"; break; fi; done`,
  `if [ -r /etc/os-release ]; then . /etc/os-release; echo "${P}distro \${ID:-unknown} \${VERSION_ID:-?} \${PRETTY_NAME:-}"; fi`,
  `[ -d /run/systemd/system ] && echo "${P}systemd"`,
  `echo "${P}init $(cat /proc/1/comm 2>/dev/null)"`,
  `for c in ${PROVIDER_COMMANDS.join(' ')}; do command -v "$c" >/dev/null 2>&1 && echo "${P}has $c"; done`,
  'exit 0',
].join('\n');

/** Reads the C library from `ldd --version`'s first line, `getconf GNU_LIBC_VERSION` and musl's loader. */
export function parseLibc(ldd: string, getconf: string, muslLoader: boolean): Libc {
  if (/musl/i.test(ldd)) return { family: 'musl' };
  // "ldd (Debian GLIBC 2.36-9+deb12u4) 2.36", "ldd (GNU libc) 2.38": the version is the last word.
  const fromLdd = /(?:glibc|gnu libc|eglibc)[^\n]*?\s(\d+\.\d+)\s*$/i.exec(ldd.trim());
  if (fromLdd) return { family: 'glibc', version: fromLdd[1]! };
  const fromGetconf = /^glibc (\d+\.\d+)/i.exec(getconf.trim());
  if (fromGetconf) return { family: 'glibc', version: fromGetconf[1]! };
  if (muslLoader) return { family: 'musl' };
  return { family: 'unknown' };
}

export function parseFacts(stdout: string): NodeFacts {
  const f: NodeFacts = {
    os: '',
    arch: '',
    libc: { family: 'unknown' },
    user: '',
    uid: -1,
    groups: [],
    sudo: 'none',
    distro: { id: 'unknown', version: '?', name: '' },
    systemd: false,
    init: '',
    commands: [],
  };
  let ldd = '';
  let getconf = '';
  let musl = false;
  for (const raw of stdout.split('\n')) {
    if (!raw.startsWith(P)) continue;
    const line = raw.slice(P.length);
    const sp = line.indexOf(' ');
    const word = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1).trim();
    switch (word) {
      case 'os':
        f.os = rest;
        break;
      case 'arch':
        f.arch = rest;
        break;
      case 'ldd':
        ldd = rest;
        break;
      case 'getconf':
        getconf = rest;
        break;
      case 'musl-loader':
        musl = true;
        break;
      case 'user': {
        const [name, uid] = rest.split(' ');
        f.user = name ?? '';
        f.uid = /^\d+$/.test(uid ?? '') ? Number(uid) : -1;
        break;
      }
      case 'groups':
        f.groups = rest.split(/\s+/).filter(Boolean);
        break;
      case 'sudo':
        if (rest === 'root' || rest === 'passwordless' || rest === 'password' || rest === 'none') f.sudo = rest;
        break;
      case 'pm':
        f.packageManager =
          rest === 'apt-get' ? 'apt' : rest === 'dnf' || rest === 'zypper' || rest === 'apk' ? rest : undefined;
        break;
      case 'distro': {
        const [id, version, ...name] = rest.split(' ');
        f.distro = { id: id ?? 'unknown', version: version ?? '?', name: name.join(' ') };
        break;
      }
      case 'systemd':
        f.systemd = true;
        break;
      case 'init':
        f.init = rest;
        break;
      case 'has':
        f.commands.push(rest);
        break;
    }
  }
  f.libc = parseLibc(ldd, getconf, musl);
  return f;
}

export async function readNodeFacts(client: Client, node: string): Promise<NodeFacts> {
  const r = await execCollect(client, node, shScript(FACTS_SCRIPT), { timeoutMs: 30_000 });
  return parseFacts(r.stdout);
}

/** Whether commands that need root can run: as root, or through `sudo -n`. */
export function canBecomeRoot(f: Pick<NodeFacts, 'sudo'>): boolean {
  return f.sudo === 'root' || f.sudo === 'passwordless';
}
