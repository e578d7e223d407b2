/**
 * The few POSIX sh scripts the coordinator runs on a node. Each is a constant; whatever varies
 * (directory names, checksums, pids) arrives as "$1"… through shScript, never pasted in.
 * Lines meant for us start with a prefix, so noise from a user's shell rc files is ignored.
 */
import { AGENT_DAEMON_STARTING_ENV, AGENT_READY_FD_ENV, AGENT_SOCKET_NAME } from '../../agent/protocol';

export const PROBE_PREFIX = 'vendetta-probe: ';
export const ATTACH_MARKER = `${PROBE_PREFIX}attach`;
export const MIN_NODE_MAJOR = 18;

/** Where Node.js is looked for, in order (shell words, expanded on the node). */
export const NODE_CANDIDATES = [
  '"$(command -v node 2>/dev/null)"',
  '/usr/local/bin/node',
  '/usr/bin/node',
  '"$HOME"/.nvm/versions/node/*/bin/node',
  '/opt/node*/bin/node',
  // Last: a Node.js vendetta uploaded for the agent (runtimeUpload.ts), with the user's consent.
  '"$HOME"/.vendetta-agent/runtime/*/bin/node',
];

/**
 * Lines printing the kernel, machine and C library (parsed by nodeFacts.ts parseFacts): what
 * decides whether the coordinator's own Node.js can run on the node.
 */
export const PLATFORM_FACTS = [
  `echo "${PROBE_PREFIX}os $(uname -s 2>/dev/null)"`,
  `echo "${PROBE_PREFIX}arch $(uname -m 2>/dev/null)"`,
  // musl's ldd prints its banner on stderr and exits 1: take both streams, first line only.
  `echo "${PROBE_PREFIX}ldd $(ldd --version 2>&1 | head -n 1)"`,
  `echo "${PROBE_PREFIX}getconf $(getconf GNU_LIBC_VERSION 2>/dev/null)"`,
  `for f in /lib/ld-musl-*; do [ -e "$f" ] && echo "${PROBE_PREFIX}musl-loader $f"; done`,
];

/**
 * `sha256` hashes stdin (hex, then anything) with OpenSSL when the node has it — it uses the CPU's
 * SHA instructions, a fifth of sha256sum's CPU time on 100 MB here — else with sha256sum; fails
 * without either. vsha sets $h to the hash (hex) of file "$1", falling back to Node.js ($node).
 */
const SHA256_FN = [
  'sha256() { if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; elif command -v sha256sum >/dev/null 2>&1; then sha256sum; else return 127; fi; }',
  `vsha() { h=$(sha256 < "$1" 2>/dev/null) || h=; h=\${h%% *}; if [ -z "$h" ] && [ -n "$node" ]; then h=$("$node" -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$1" 2>/dev/null); fi; }`,
].join('\n');

/**
 * Finds Node.js >= 18, checks ~/.vendetta-agent/$1/agent.js against sha256 $2 and, when $3 is
 * `attach` and the bundle is right, becomes `node agent.js attach` (after printing the marker,
 * so everything that follows is the agent's JSON-RPC). When the bundle is missing and $4 is
 * `mkdir`, its directory is made for the upload that follows. $6 and $7: a Node.js and the version
 * it was just proven to print (a runtime uploaded a moment ago), used without a search or another
 * `--version` (one Node.js start fewer) while it is there.
 */
export function probeScript(candidates: readonly string[] = NODE_CANDIDATES): string {
  return [
    'node=; nodev=',
    'if [ -n "$6" ] && [ -x "$6" ]; then node=$6; nodev=$7; fi',
    `[ -n "$node" ] || for n in ${candidates.join(' ')}; do`,
    '  [ -n "$n" ] && [ -x "$n" ] || continue',
    '  v=$("$n" --version 2>/dev/null) || continue',
    `  echo "${PROBE_PREFIX}candidate $v $n"`,
    '  m=${v#v}; m=${m%%.*}',
    `  if [ "$m" -ge ${MIN_NODE_MAJOR} ] 2>/dev/null; then node=$n; nodev=$v; break; fi`,
    'done',
    `echo "${PROBE_PREFIX}home $HOME"`,
    // No runtime: what decides whether ours can be uploaded comes in the same round trip.
    `if [ -z "$node" ]; then echo "${PROBE_PREFIX}runtime-missing"; ${PLATFORM_FACTS.join('; ')}; exit 0; fi`,
    `echo "${PROBE_PREFIX}node $nodev $node"`,
    SHA256_FN,
    'd="$HOME/.vendetta-agent/$1"; h=',
    'if [ -f "$d/agent.js" ]; then vsha "$d/agent.js"; fi',
    'if [ "$h" = "$2" ]; then',
    `  echo "${PROBE_PREFIX}bundle ok"`,
    `  if [ "$3" = attach ]; then`,
    '    a=${VENDETTA_AGENT_HOME:-$HOME/.vendetta-agent}',
    // $5 `start` and $8 `direct`: a bundle just installed and the coordinator can reach the
    // daemon's socket itself: start the daemon, wait for the "ready" it writes to fd 3 once it
    // listens (EOF instead when it exits, e.g. another daemon holds the lock), and say where it
    // listens; no attach process. Anything else falls through to the attach.
    '    if [ "$5" = start ] && [ "$8" = direct ] && command -v setsid >/dev/null 2>&1; then',
    `      r=$( (umask 077; mkdir -p "$a/logs" && cd "$a" && ${AGENT_READY_FD_ENV}=3 setsid "$node" "$d/agent.js" daemon 3>&1 </dev/null >>"$a/logs/daemon.out" 2>&1 &) )`,
    `      if [ "$r" = ready ]; then echo "${PROBE_PREFIX}daemon-ready $a/${AGENT_SOCKET_NAME}"; exit 0; fi`,
    '      set -- "$1" "$2" "$3" "$4" ""',
    '    fi',
    `    echo "${ATTACH_MARKER}"`,
    // $5 `start`: a bundle just installed, so no daemon of it runs; start one beside the attach, so
    // the two Node.js start at once instead of one after the other (the attach waits for it).
    '    if [ "$5" = start ] && command -v setsid >/dev/null 2>&1; then',
    '      (umask 077; mkdir -p "$a/logs" && cd "$a" && setsid "$node" "$d/agent.js" daemon </dev/null >>"$a/logs/daemon.out" 2>&1 &)',
    `      ${AGENT_DAEMON_STARTING_ENV}=1; export ${AGENT_DAEMON_STARTING_ENV}`,
    '    fi',
    '    exec "$node" "$d/agent.js" attach',
    '  fi',
    'else',
    `  echo "${PROBE_PREFIX}bundle missing $h"`,
    '  if [ "$4" = mkdir ]; then mkdir -p "$d" && chmod 700 "$HOME/.vendetta-agent"; fi',
    'fi',
  ].join('\n');
}

/** Makes directory $1 (mode 700), and $2 private (700) when given: before an SFTP upload. */
export const MAKE_PRIVATE_DIR = 'umask 077; mkdir -p "$1" || exit 1; if [ -n "$2" ]; then chmod 700 "$2"; fi';

/**
 * Installs an uploaded file, in one exec. $9 `stdin`: first makes directory $1 (and $8, when
 * given, private: 700) and writes stdin to temp file $1/$2 (mode 600) while hashing the same
 * bytes (for sshds without SFTP); otherwise $1/$2 arrived over SFTP and is hashed here. Then
 * checks the sha256 against $4, makes it executable when $6 is `exec`, runs `$1/$2 --version`
 * when $7 names the version it must print, and only then renames it to $1/$3. $5: a Node.js to
 * hash with when the node has neither OpenSSL nor sha256sum (may be empty). Whatever fails deletes the temp file.
 * Prints `installed`, `checksum <hash>` or `does-not-run`.
 */
export const RECEIVE_VERIFIED = [
  't="$1/$2"; node=$5',
  SHA256_FN,
  'if [ "$9" = stdin ]; then',
  '  umask 077',
  '  mkdir -p "$1" || exit 1',
  '  if [ -n "$8" ]; then chmod 700 "$8" || exit 1; fi',
  '  if command -v openssl >/dev/null 2>&1 || command -v sha256sum >/dev/null 2>&1; then',
  // tee copies on to the hash even when it cannot write the file: it says so on fd 3.
  '    r=$( { { tee "$t" || echo tee-failed >&3; } | sha256; } 3>&1 )',
  '    case $r in *tee-failed*) rm -f "$t"; exit 1;; esac',
  '    h=${r%% *}',
  '  else',
  '    cat > "$t" || { rc=$?; rm -f "$t"; exit $rc; }',
  '    h=; vsha "$t"',
  '  fi',
  'else',
  '  h=; vsha "$t"',
  'fi',
  `if [ "$h" != "$4" ]; then rm -f "$t"; echo "${PROBE_PREFIX}checksum $h"; exit 0; fi`,
  'if [ "$6" = exec ]; then chmod 700 "$t" || { rm -f "$t"; exit 1; }; fi',
  'if [ -n "$7" ]; then',
  '  v=$("$t" --version 2>&1)',
  `  if [ "$v" != "$7" ]; then echo "$v" | head -n 5 >&2; rm -f "$t"; rmdir "$1" "\${1%/*}" 2>/dev/null; echo "${PROBE_PREFIX}does-not-run"; exit 0; fi`,
  'fi',
  `mv -f "$t" "$1/$3" && echo "${PROBE_PREFIX}installed"`,
].join('\n');

/**
 * Is process $1 still running? A zombie is not: a detached daemon's exit status waits for
 * whoever adopted it (init, or a slow subreaper) and that must not hold up an upgrade.
 */
const RUNNING_FN =
  'running() { kill -0 "$1" 2>/dev/null || return 1; case $(cat "/proc/$1/stat" 2>/dev/null) in *") Z "*) return 1;; esac; return 0; }';

/** Waits up to ~5 s for process $1 to exit; exit status 1 if it is still there. */
export const WAIT_FOR_EXIT = `${RUNNING_FN}; i=0; while running "$1"; do i=$((i+1)); if [ $i -ge 50 ]; then exit 1; fi; sleep 0.1; done`;

/** Asks process $1 to stop, then forces it after ~3 s. */
export const KILL_PROCESS = `${RUNNING_FN}; kill "$1" 2>/dev/null || exit 0; i=0; while running "$1"; do i=$((i+1)); if [ $i -ge 30 ]; then kill -9 "$1" 2>/dev/null; exit 0; fi; sleep 0.1; done`;

/** Says whether ~/.vendetta-agent exists and lists the bundle directories in it, one a line. */
export const LIST_BUNDLES = `[ -e "$HOME/.vendetta-agent" ] && echo "${PROBE_PREFIX}home-exists"; for f in "$HOME"/.vendetta-agent/*/agent.js; do [ -f "$f" ] && { d=\${f%/agent.js}; echo "${PROBE_PREFIX}bundle \${d##*/}"; }; done; exit 0`;

/** Deletes the agent home (~/.vendetta-agent) and says whether it is gone. */
export const REMOVE_AGENT_HOME = `rm -rf "$HOME/.vendetta-agent"; if [ -e "$HOME/.vendetta-agent" ]; then echo "${PROBE_PREFIX}still-there"; exit 1; fi; echo "${PROBE_PREFIX}removed"`;

/** Deletes bundle directories $2… under ~/.vendetta-agent except $1 (old versions after an upgrade). */
export const PRUNE_BUNDLES =
  'keep=$1; shift; for d in "$@"; do [ "$d" = "$keep" ] || rm -rf "$HOME/.vendetta-agent/$d"; done';

export interface NodeRuntime {
  path: string;
  version: string;
}

export interface ProbeResult {
  home?: string;
  /** Every Node.js looked at, best or not. */
  candidates: NodeRuntime[];
  /** The first one >= 18. */
  runtime?: NodeRuntime;
  runtimeMissing: boolean;
  bundle: 'ok' | 'missing' | 'unknown';
  /** Hash of whatever sits at the bundle's path (empty: nothing). */
  foundHash?: string;
  attached: boolean;
  /** The socket of a daemon the script started and saw listen (direct mode: no attach ran). */
  daemonReady?: string;
}

/** Reads the lines the probe script printed (others are ignored). */
export function parseProbe(lines: readonly string[]): ProbeResult {
  const r: ProbeResult = { candidates: [], runtimeMissing: false, bundle: 'unknown', attached: false };
  for (const raw of lines) {
    if (!raw.startsWith(PROBE_PREFIX)) continue;
    const line = raw.slice(PROBE_PREFIX.length);
    const [word] = line.split(' ', 1);
    const rest = line.slice((word ?? '').length + 1);
    switch (word) {
      case 'candidate':
      case 'node': {
        const sp = rest.indexOf(' ');
        if (sp <= 0) break;
        const rt = { version: rest.slice(0, sp), path: rest.slice(sp + 1) };
        if (word === 'node') r.runtime = rt;
        else r.candidates.push(rt);
        break;
      }
      case 'home':
        r.home = rest;
        break;
      case 'runtime-missing':
        r.runtimeMissing = true;
        break;
      case 'bundle':
        r.bundle = rest.startsWith('ok') ? 'ok' : 'missing';
        if (r.bundle === 'missing') r.foundHash = rest.slice('missing'.length).trim();
        break;
      case 'attach':
        r.attached = true;
        break;
      case 'daemon-ready':
        if (rest) r.daemonReady = rest;
        break;
    }
  }
  return r;
}
