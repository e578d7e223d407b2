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
import type { LocalRuntime } from './localRuntime';
import type { PlatformFacts } from './nodeFacts';
import type { NodeRuntime } from './remoteScripts';
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
export function uploadCompatibility(local: LocalRuntime, facts: PlatformFacts): Compatibility {
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

/**
 * Uploads `local` to the node (after checking it can run there), proves it runs before it is put
 * in place, and returns where it is. `home`: the SSH user's home on the node. `beside` runs at the
 * same time as the upload, once the node is known to take it (the agent's bundle travels with
 * it). Throws NODE_RUNTIME_MISSING when the node cannot run it.
 */
export async function uploadRuntime(
  client: Client,
  node: string,
  local: LocalRuntime,
  facts: PlatformFacts,
  home: string,
  opts: { log?: { info(m: string, f?: Record<string, unknown>): void }; beside?: () => Promise<unknown> } = {},
): Promise<NodeRuntime & { ms: number }> {
  const { log } = opts;
  const c = uploadCompatibility(local, facts);
  if (!c.ok)
    throw refused(node, `vendetta cannot upload its Node.js ${local.version} to ${node}: ${c.reason}`, undefined, {
      facts,
    });
  const started = Date.now();
  const dir = `${home}/${RUNTIME_DIR}/${local.dirName}/bin`;
  const upload = uploadVerified(
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
      proveVersion: local.version,
      privateDir: `${home}/.vendetta-agent`,
      // ~100 MB: allow a slow link about 0.5 MB/s before calling it stuck.
      timeoutMs: Math.max(120_000, Math.ceil(local.size / 500_000) * 1000),
    },
    log,
  );
  // Both settle before either's failure is told, so nothing still writes on the node afterwards.
  const [uploaded, besides] = await Promise.allSettled([upload, opts.beside?.()]);
  if (uploaded.status === 'rejected') throw uploaded.reason;
  if (besides.status === 'rejected') throw besides.reason;
  const r = uploaded.value;
  if (r.doesNotRun !== undefined) {
    throw refused(
      node,
      `Node.js ${local.version} was uploaded to ${node} but does not run there (${r.doesNotRun.split('\n').slice(-2).join(' | ').slice(0, 300)}); it was deleted again`,
      undefined,
      { facts },
    );
  }
  const ms = Date.now() - started;
  log?.info('Node.js uploaded for the agent', { node, version: local.version, bytes: local.size, ms });
  return { path: `${dir}/node`, version: local.version, ms };
}

/** Whether a runtime path the agent runs on is one vendetta uploaded. */
export function isUploadedRuntime(path: string | undefined): boolean {
  return !!path && path.includes(`/${RUNTIME_DIR}/`);
}
