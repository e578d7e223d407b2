/**
 * A Node.js for the agent on a node that has none (or one too old): the coordinator's own binary,
 * uploaded when the node can run it — same kernel, same machine, a glibc at least as new as the
 * binary needs (musl cannot load it) — which is checked on the node before a byte is sent, and
 * proven after: the uploaded copy must answer `--version`, or it is deleted again. It lives under
 * ~/.vendetta-agent/runtime/<version-machine-sha>/bin/node, off PATH: only the agent uses it.
 */
import type { Client } from 'ssh2';
import { VendettaError } from '../errors';
import { compareVersions } from './elfNeeds';
import { execCollect } from './exec';
import type { LocalRuntime } from './localRuntime';
import type { NodeFacts } from './nodeFacts';
import { PROBE_PREFIX, type NodeRuntime } from './remoteScripts';
import { shScript } from './shellQuote';
import { uploadVerified } from './upload';

/** Where uploaded runtimes live, relative to the node user's home; the probe looks there last. */
export const RUNTIME_DIR = '.vendetta-agent/runtime';

/** `uname -m` spellings of one machine. */
const SAME_MACHINE: Record<string, string[]> = {
  x86_64: ['x86_64', 'amd64'],
  aarch64: ['aarch64', 'arm64'],
  armv7l: ['armv7l', 'armv8l'],
  i686: ['i686', 'i586', 'i386'],
};

export type Compatibility = { ok: true } | { ok: false; reason: string };

/** Can `local` run on the node described by `facts`? Every clause is a fact the node reported. */
export function uploadCompatibility(local: LocalRuntime, facts: NodeFacts): Compatibility {
  if (facts.os !== 'Linux')
    return {
      ok: false,
      reason: `the node runs ${facts.os || 'an unknown kernel'}, and this Node.js is built for Linux`,
    };
  const machines = SAME_MACHINE[local.needs.machine] ?? [local.needs.machine];
  if (!machines.includes(facts.arch))
    return {
      ok: false,
      reason: `the node is ${facts.arch || 'of an unknown architecture'}, and this Node.js is built for ${local.needs.machine}`,
    };
  if (!local.needs.dynamic) return { ok: true };
  if (facts.libc.family === 'musl')
    return { ok: false, reason: "the node's C library is musl, and this Node.js is built against glibc" };
  if (facts.libc.family === 'unknown')
    return {
      ok: false,
      reason:
        "the node's C library could not be identified (neither `ldd --version` nor `getconf GNU_LIBC_VERSION` named glibc)",
    };
  const need = local.needs.glibc;
  if (need && compareVersions(facts.libc.version, need) < 0)
    return { ok: false, reason: `the node has glibc ${facts.libc.version}, and this Node.js needs ${need} or newer` };
  return { ok: true };
}

function refused(node: string, message: string, cause?: unknown, details?: Record<string, unknown>): VendettaError {
  return new VendettaError('NODE_RUNTIME_MISSING', message, {
    node,
    hint: `Install Node.js 18 or newer on ${node} yourself, or let vendetta use the node's package manager: \`--install-runtime package\`.`,
    cause,
    details,
  });
}

const MAKE_DIR = `umask 077; mkdir -p "$HOME/${RUNTIME_DIR}/$1/bin" && chmod 700 "$HOME/.vendetta-agent" && echo "${PROBE_PREFIX}dir $HOME/${RUNTIME_DIR}/$1/bin"`;
/** Runs the uploaded binary's --version; a failure removes its directory so the probe never picks it. */
const PROVE = `v=$("$1/node" --version 2>&1); rc=$?; if [ $rc -eq 0 ] && [ "$v" = "$2" ]; then echo "${PROBE_PREFIX}runs $v"; else echo "$v" | head -n 5 >&2; rm -rf "\${1%/bin}"; exit 1; fi`;

/**
 * Uploads `local` to the node (after checking it can run there) and proves it runs. Returns
 * where it is. Throws NODE_RUNTIME_MISSING when the node cannot run it.
 */
export async function uploadRuntime(
  client: Client,
  node: string,
  local: LocalRuntime,
  facts: NodeFacts,
  log?: { info(m: string, f?: Record<string, unknown>): void },
): Promise<NodeRuntime & { via: 'sftp' | 'exec'; ms: number }> {
  const c = uploadCompatibility(local, facts);
  if (!c.ok)
    throw refused(node, `vendetta cannot upload its Node.js ${local.version} to ${node}: ${c.reason}`, undefined, {
      facts,
    });
  const started = Date.now();
  const mk = await execCollect(client, node, shScript(MAKE_DIR, [local.dirName]));
  const dir = /dir (.+)$/m.exec(mk.stdout)?.[1]?.trim();
  if (mk.code !== 0 || !dir) {
    throw new VendettaError(
      'AGENT_INSTALL_FAILED',
      `Cannot make ~/${RUNTIME_DIR}/${local.dirName} on ${node}: ${mk.stderr.trim().slice(0, 200) || `exit ${mk.code}`}`,
      {
        node,
        hint: `The SSH user needs a writable home on ${node}.`,
      },
    );
  }
  const { via } = await uploadVerified(
    client,
    node,
    {
      path: local.path,
      sha256: local.sha256,
      dir,
      name: 'node',
      what: `Node.js ${local.version}`,
      unreadableHint:
        "The coordinator's own Node.js binary changed or vanished while it runs: restart the coordinator (`vendetta coordinator restart`).",
      executable: true,
      // ~100 MB: allow a slow link about 0.5 MB/s before calling it stuck.
      timeoutMs: Math.max(120_000, Math.ceil(local.size / 500_000) * 1000),
    },
    log,
  );
  const proof = await execCollect(client, node, shScript(PROVE, [dir, local.version]));
  if (proof.code !== 0 || !proof.stdout.includes(`${PROBE_PREFIX}runs ${local.version}`)) {
    throw refused(
      node,
      `Node.js ${local.version} was uploaded to ${node} but does not run there (${proof.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300) || `exit ${proof.code}`}); it was deleted again`,
      undefined,
      { facts },
    );
  }
  const ms = Date.now() - started;
  log?.info('Node.js uploaded for the agent', { node, version: local.version, bytes: local.size, via, ms });
  return { path: `${dir}/node`, version: local.version, via, ms };
}

/** Whether a runtime path the agent runs on is one vendetta uploaded. */
export function isUploadedRuntime(path: string | undefined): boolean {
  return !!path && path.includes(`/${RUNTIME_DIR}/`);
}
