/**
 * When a node has no usable Node.js: say so, with the ways vendetta can fix it, in order — its own
 * Node.js uploaded (when the node can run it), or the distribution's package (when the user can
 * become root) — and carry out the one the user chose. Nothing is installed without that choice.
 */
import type { Client } from 'ssh2';
import { toVendettaError, VendettaError } from '../errors';
import type { RuntimeOffer } from '../protocol';
import { readLocalRuntime, type LocalRuntime } from './localRuntime';
import { canBecomeRoot, readNodeFacts, type NodeFacts, type PlatformFacts } from './nodeFacts';
import { runtimePlan, stepCommand } from './packagePlans';
import { runPlan } from './planRunner';
import { MIN_NODE_MAJOR, type NodeRuntime, type ProbeResult } from './remoteScripts';
import { uploadCompatibility, uploadRuntime } from './runtimeUpload';

/** How the agent gets a Node.js when the node has none: `never` fails as before. */
export type RuntimeChoice = 'upload' | 'package' | 'never';
export const RUNTIME_CHOICES: readonly RuntimeChoice[] = ['upload', 'package', 'never'];

export interface ProvidedRuntime extends NodeRuntime {
  how: 'upload' | 'package';
  ms: number;
}

/** The ways to get a runtime onto this node, best first, each with whether it can work here. */
export function runtimeOffers(facts: NodeFacts, local: LocalRuntime | VendettaError): RuntimeOffer[] {
  const offers: RuntimeOffer[] = [];
  if (local instanceof VendettaError) {
    offers.push({ kind: 'upload', ok: false, detail: local.message });
  } else {
    const c = uploadCompatibility(local, facts);
    const mb = Math.round(local.size / 1e6);
    offers.push(
      c.ok
        ? {
            kind: 'upload',
            ok: true,
            detail: `upload this coordinator's Node.js ${local.version} (${mb} MB, ${local.needs.machine}${local.needs.glibc ? `, needs glibc ${local.needs.glibc}; the node has ${facts.libc.family === 'glibc' ? facts.libc.version : '?'}` : ''}) to ~/.vendetta-agent/runtime, for the agent only`,
          }
        : {
            kind: 'upload',
            ok: false,
            detail: `cannot upload this coordinator's Node.js ${local.version}: ${c.reason}`,
          },
    );
  }
  const pm = facts.packageManager;
  if (!pm) {
    offers.push({
      kind: 'package',
      ok: false,
      detail: 'the node has no package manager vendetta knows (apt, dnf, zypper, apk)',
    });
  } else {
    const commands = runtimePlan(pm).map((s) => stepCommand(s, facts.sudo !== 'root'));
    offers.push(
      canBecomeRoot(facts)
        ? {
            kind: 'package',
            ok: true,
            detail: `install the distribution's Node.js with ${pm}${facts.sudo === 'root' ? '' : ' (through sudo)'}`,
            commands,
          }
        : {
            kind: 'package',
            ok: false,
            detail: `installing with ${pm} needs root, and ${facts.user || 'the SSH user'} ${facts.sudo === 'password' ? 'has no passwordless sudo' : 'has no sudo'}`,
            commands,
          },
    );
  }
  return offers;
}

function describeMissing(node: string, probe: ProbeResult): string {
  const found = probe.candidates.map((c) => `${c.version} at ${c.path}`).join(', ');
  return found
    ? `${node} has Node.js ${found}, but the agent needs ${MIN_NODE_MAJOR} or newer`
    : `${node} has no Node.js (looked in PATH, /usr/local/bin, /usr/bin, ~/.nvm, /opt/node*)`;
}

/** NODE_RUNTIME_MISSING with the offers in its details and hint (or, for `never`, the manual way only). */
export async function runtimeMissing(
  client: Client,
  node: string,
  host: string,
  probe: ProbeResult,
  choice?: RuntimeChoice,
): Promise<VendettaError> {
  const manual = `Install Node.js ${MIN_NODE_MAJOR} or newer on ${host} (Debian/Ubuntu: \`sudo apt-get install nodejs\`; or a build from https://nodejs.org in /usr/local), then retry.`;
  if (choice === 'never') {
    return new VendettaError('NODE_RUNTIME_MISSING', describeMissing(node, probe), {
      node,
      hint: manual,
      details: { candidates: probe.candidates },
    });
  }
  let offers: RuntimeOffer[] = [];
  try {
    const facts = await readNodeFacts(client, node);
    const local = await readLocalRuntime().catch((err: unknown) => toVendettaError(err));
    offers = runtimeOffers(facts, local);
  } catch {
    // The facts are a courtesy: without them the manual way still stands.
  }
  const usable = offers.filter((o) => o.ok);
  const unusable = offers
    .filter((o) => !o.ok)
    .map((o) => `${o.kind === 'upload' ? 'Upload' : 'Package'}: ${o.detail}.`);
  const hint = [
    usable.length
      ? `vendetta can bring one: ${usable.map((o) => `\`--install-runtime ${o.kind}\` (${o.detail})`).join('; or ')}.`
      : '',
    ...unusable,
    usable.length ? `Or: ${manual}` : manual,
  ]
    .filter(Boolean)
    .join(' ');
  return new VendettaError('NODE_RUNTIME_MISSING', describeMissing(node, probe), {
    node,
    hint,
    details: { candidates: probe.candidates, offers },
  });
}

export interface ProvideOptions {
  node: string;
  /** The SSH user's home on the node. */
  home: string;
  choice: 'upload' | 'package';
  status: (message: string) => void;
  log?: { info(m: string, f?: Record<string, unknown>): void };
  /** Kernel, machine and C library, as the probe found them: an upload needs no other fact. */
  platform: PlatformFacts;
  /** Runs beside an upload once the node is known to take it (the agent's bundle). */
  besideUpload?: () => Promise<unknown>;
}

/** Carries out the user's choice; the caller probes again afterwards. */
export async function provideRuntime(client: Client, o: ProvideOptions): Promise<ProvidedRuntime> {
  const { node } = o;
  if (o.choice === 'upload') {
    const local = await readLocalRuntime().catch((err: unknown) => toVendettaError(err));
    if (local instanceof VendettaError)
      throw new VendettaError(local.code, local.message, { node, hint: local.hint, cause: local.cause });
    o.status(`Uploading Node.js ${local.version} for the agent (${Math.round(local.size / 1e6)} MB)…`);
    const r = await uploadRuntime(client, node, local, o.platform, o.home, { log: o.log, beside: o.besideUpload });
    return { how: 'upload', path: r.path, version: r.version, ms: r.ms };
  }
  return installPackage(client, node, await readNodeFacts(client, node), o.status);
}

async function installPackage(
  client: Client,
  node: string,
  facts: NodeFacts,
  status: (message: string) => void,
): Promise<ProvidedRuntime> {
  if (!facts.packageManager) {
    throw new VendettaError(
      'NODE_RUNTIME_MISSING',
      `${node} has no package manager vendetta knows (apt, dnf, zypper, apk)`,
      {
        node,
        hint: `Install Node.js ${MIN_NODE_MAJOR} or newer there yourself, or try \`--install-runtime upload\`.`,
      },
    );
  }
  const t0 = Date.now();
  await runPlan(client, node, facts, runtimePlan(facts.packageManager), 'Installing Node.js', (i, n, step, command) =>
    status(`Node.js ${i}/${n}: ${step.title}: ${command}`),
  );
  return { how: 'package', path: '', version: '', ms: Date.now() - t0 };
}

/** After a package install, the probe still finding nothing usable means the distribution's is too old. */
export function packageTooOld(node: string, probe: ProbeResult): VendettaError {
  return new VendettaError(
    'NODE_RUNTIME_MISSING',
    `The package manager's Node.js install finished on ${node}, but the agent still finds no usable one: ${describeMissing(node, probe).replace(`${node} has `, '')}`,
    {
      node,
      hint: probe.candidates.length
        ? "The distribution's Node.js is too old for the agent: use `--install-runtime upload` instead, or install a newer Node.js from https://nodejs.org."
        : 'The package put no `node` where the agent looks (PATH, /usr/bin, /usr/local/bin): check the package on the node, or use `--install-runtime upload`.',
      details: { candidates: probe.candidates },
    },
  );
}
