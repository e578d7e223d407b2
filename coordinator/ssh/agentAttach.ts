/**
 * From an authenticated connection to a live agent session: find Node.js, make sure our bundle
 * is installed (upload it if not), exec `node agent.js attach`, `initialize`, and upgrade an
 * agent daemon of another build by shutting it down and attaching again.
 */
import type { Client, ClientChannel } from 'ssh2';
import { Shutdown, type InitializeResult, type LogParams } from '../../agent/protocol';
import { VendettaError } from '../errors';
import type { Logger } from '../log';
import { AgentSession } from '../nodes/agentSession';
import { execCollect } from './exec';
import { readLocalRuntime } from './localRuntime';
import { parseFacts } from './nodeFacts';
import type { LocalBundle } from './localBundle';
import {
  packageTooOld,
  provideRuntime,
  runtimeMissing,
  type ProvidedRuntime,
  type RuntimeChoice,
} from './provideRuntime';
import {
  KILL_PROCESS,
  LIST_BUNDLES,
  PROBE_PREFIX,
  PRUNE_BUNDLES,
  WAIT_FOR_EXIT,
  type NodeRuntime,
} from './remoteScripts';
import { shScript } from './shellQuote';
import { withTimeout } from '../../common/async/timeout';
import { attachFailed, freshProbe, runProbe } from './probeRun';
import type { DirectAgent } from './agentDirect';
import { uploadBundle } from './upload';

/** Thrown inside this module when a daemon speaking another protocol agreed to stop for an upgrade. */
class StoppedForUpgrade extends Error {
  constructor(
    readonly pid: number,
    readonly mismatch: VendettaError,
  ) {
    super('stopped an agent of another protocol version');
  }
}

export interface AttachOptions {
  node: string;
  host: string;
  bundle: LocalBundle;
  log: Logger;
  /** false: never upload; a missing bundle is an error. */
  install: boolean;
  /** What to do when the node has no usable Node.js; absent: fail with the offers (the user decides). */
  runtime?: RuntimeChoice;
  /**
   * Reach a daemon this attach just started straight on its socket (no `attach` process);
   * `refused` is told when the node forbids that channel. Absent: always attach.
   */
  direct?: { refused(): void };
  /** Says what a runtime install is doing (progress lines). */
  onStatus?: (message: string) => void;
  handshakeTimeoutMs?: number;
  onLog?: (p: LogParams) => void;
}

export interface AttachedAgent {
  session: AgentSession;
  channel: ClientChannel;
  info: InitializeResult;
  runtime: NodeRuntime;
  home: string;
  installed: boolean;
  upgraded: boolean;
  /** Set when this attach brought the node a Node.js. */
  runtimeProvided?: ProvidedRuntime;
  /** The session runs on a streamlocal channel to the daemon's socket (AttachOptions.direct). */
  direct?: true;
  /** The last lines the attach process wrote to stderr, for error messages. */
  stderrTail(): string;
}

/** Attaches (installing first when needed) and handshakes; one try, no upgrade. */
async function attachOnce(
  client: Client,
  opts: AttachOptions & { upgradeOnMismatch?: boolean },
): Promise<Omit<AttachedAgent, 'upgraded'>> {
  const { node, bundle } = opts;
  // The 100 MB checksum of the runtime to upload is read while the node is probed (once per coordinator).
  if (opts.runtime === 'upload') void readLocalRuntime().catch(() => undefined);
  let run = await runProbe(client, node, bundle, 'attach', { install: opts.install });
  let direct: DirectAgent | undefined;
  let installed = false;
  let runtimeProvided: ProvidedRuntime | undefined;
  if (run.probe.runtimeMissing) {
    if (opts.runtime !== 'upload' && opts.runtime !== 'package')
      throw await runtimeMissing(client, node, opts.host, run.probe, opts.runtime);
    const home = run.probe.home;
    if (!home) throw attachFailed(node, 'the setup script on the node did not finish', run.stderrTail());
    // An uploaded runtime means a node new to vendetta: the bundle travels beside it, so the
    // probe below finds both and attaches at once.
    const sendBundle = opts.runtime === 'upload' && opts.install;
    runtimeProvided = await provideRuntime(client, {
      node,
      home,
      choice: opts.runtime,
      status: opts.onStatus ?? (() => undefined),
      log: opts.log,
      platform: parseFacts(run.lines.join('\n')),
      ...(sendBundle ? { besideUpload: () => sendAgent(client, opts, home, '') } : {}),
    });
    installed = sendBundle;
    // An uploaded runtime proved its version on arrival: the probe takes it as it is.
    const proven = runtimeProvided.how === 'upload' ? runtimeProvided : undefined;
    if (installed) ({ run, direct } = await freshProbe(client, opts, proven));
    else run = await runProbe(client, node, bundle, 'attach', { install: opts.install });
    if (run.probe.runtimeMissing)
      throw opts.runtime === 'package'
        ? packageTooOld(node, run.probe)
        : attachFailed(node, 'the uploaded Node.js is not found where expected', run.stderrTail());
    if (run.probe.runtime && !runtimeProvided.version) runtimeProvided = { ...runtimeProvided, ...run.probe.runtime };
  }
  if (!run.body && !direct) {
    if (run.probe.bundle !== 'missing' || !run.probe.home || !run.probe.runtime) {
      throw attachFailed(node, 'the setup script on the node did not finish', run.stderrTail());
    }
    if (!opts.install) {
      throw new VendettaError(
        'AGENT_INSTALL_FAILED',
        `The agent ${bundle.version} (build ${bundle.buildId}) is not installed on ${node}`,
        {
          node,
          hint: `Install it: \`vendetta node add ${node} …\` without --no-install.`,
        },
      );
    }
    await sendAgent(client, opts, run.probe.home, run.probe.runtime.path);
    installed = true;
    ({ run, direct } = await freshProbe(client, opts));
    if (!run.body && !direct)
      throw attachFailed(node, 'the bundle was uploaded but is not found where expected', run.stderrTail());
  }
  const runtime = run.probe.runtime!;
  const home = run.probe.home ?? '';
  const provided = runtimeProvided ? { runtimeProvided } : {};
  if (direct) return { ...direct, runtime, home, installed, ...provided, direct: true, stderrTail: run.stderrTail };
  const session = new AgentSession({
    nodeName: node,
    input: run.body!,
    output: run.channel,
    onLog: opts.onLog,
    handshakeTimeoutMs: opts.handshakeTimeoutMs,
  });
  try {
    const info = await session.initialize();
    return {
      session,
      channel: run.channel,
      info,
      runtime,
      home,
      installed,
      ...provided,
      stderrTail: run.stderrTail,
    };
  } catch (err) {
    // A daemon of another protocol version: an upgrade if it still understands agent/shutdown.
    if (err instanceof VendettaError && err.code === 'PROTOCOL_MISMATCH' && opts.upgradeOnMismatch) {
      const stopped = await withTimeout(session.shutdownAfterMismatch(err), 5_000).catch(() => undefined);
      closeAttached({ session, channel: run.channel });
      if (stopped && typeof stopped.pid === 'number') throw new StoppedForUpgrade(stopped.pid, err);
      throw err;
    }
    closeAttached({ session, channel: run.channel });
    if (err instanceof VendettaError && err.code === 'NODE_UNREACHABLE' && run.stderrTail()) {
      throw attachFailed(node, 'the attach process exited', run.stderrTail(), err);
    }
    throw err;
  }
}

/** Uploads the agent's bundle (checksum verified on the node) and logs it. */
async function sendAgent(client: Client, opts: AttachOptions, home: string, nodePath: string): Promise<void> {
  const started = Date.now();
  await uploadBundle(client, opts.node, home, opts.bundle, nodePath, opts.log);
  opts.log.info('agent installed', {
    node: opts.node,
    version: opts.bundle.version,
    buildId: opts.bundle.buildId,
    bytes: opts.bundle.size,
    ms: Date.now() - started,
  });
}

function closeAttached(a: { session: AgentSession; channel: ClientChannel }): void {
  a.session.dispose();
  a.channel.close();
}

/**
 * A live, initialized agent session of exactly our build. A daemon of another build (an older
 * coordinator's, or a newer one's) is asked to shut down and replaced by ours: that is the upgrade.
 */
export async function attachAgent(client: Client, opts: AttachOptions): Promise<AttachedAgent> {
  const a = await attachOrUpgrade(client, opts);
  if (a.installed || a.upgraded) {
    const pruned = pruneOldBundles(client, opts).catch((err: unknown) =>
      opts.log.warn('could not remove old agent bundles', { node: opts.node, error: (err as Error).message }),
    );
    // After an upgrade the old bundle surely exists; after a first install there is rarely any,
    // and the caller need not wait for the look.
    if (a.upgraded) await pruned;
  }
  return a;
}

/** Once our build runs, the bundles of other builds on the node are dead weight. */
async function pruneOldBundles(client: Client, opts: AttachOptions): Promise<void> {
  const r = await execCollect(client, opts.node, shScript(LIST_BUNDLES), { timeoutMs: 15_000 });
  const others = bundleDirs(r.stdout).filter((d) => d !== opts.bundle.dirName);
  if (others.length === 0) return;
  await execCollect(client, opts.node, shScript(PRUNE_BUNDLES, [opts.bundle.dirName, ...others]), {
    timeoutMs: 15_000,
  });
  opts.log.info('removed old agent bundles', { node: opts.node, removed: others });
}

/** Directory names from LIST_BUNDLES output. */
export function bundleDirs(stdout: string): string[] {
  const prefix = `${PROBE_PREFIX}bundle `;
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length))
    .filter((d) => d && !d.includes('/'));
}

async function attachOrUpgrade(client: Client, opts: AttachOptions): Promise<AttachedAgent> {
  const { node, bundle } = opts;
  let first: Awaited<ReturnType<typeof attachOnce>>;
  try {
    first = await attachOnce(client, { ...opts, upgradeOnMismatch: true });
  } catch (err) {
    if (!(err instanceof StoppedForUpgrade)) throw err;
    opts.log.info('upgrading agent of another protocol version', { node, pid: err.pid, error: err.mismatch.message });
    await stopPid(client, node, err.pid, opts.log);
    const again = await attachOnce(client, opts);
    if (again.info.buildId !== bundle.buildId) {
      closeAttached(again);
      throw upgradeDidNotTake(node, again.info.buildId, bundle.buildId);
    }
    return { ...again, upgraded: true };
  }
  if (first.info.buildId === bundle.buildId) return { ...first, upgraded: false };

  opts.log.info('upgrading agent', {
    node,
    from: `${first.info.agentVersion} (${first.info.buildId})`,
    to: `${bundle.version} (${bundle.buildId})`,
    pid: first.info.pid,
  });
  const oldPid = first.info.pid;
  try {
    await withTimeout(first.session.request(Shutdown), 5_000);
  } catch (err) {
    opts.log.warn('agent/shutdown failed during upgrade; stopping the old daemon by pid', {
      node,
      pid: oldPid,
      error: (err as Error).message,
    });
  }
  closeAttached(first);
  await stopPid(client, node, oldPid, opts.log);

  const second = await attachOnce(client, opts);
  if (second.info.buildId !== bundle.buildId) {
    closeAttached(second);
    throw upgradeDidNotTake(node, second.info.buildId, bundle.buildId);
  }
  const runtimeProvided = first.runtimeProvided ?? second.runtimeProvided;
  return {
    ...second,
    installed: first.installed || second.installed,
    upgraded: true,
    ...(runtimeProvided ? { runtimeProvided } : {}),
  };
}

function upgradeDidNotTake(node: string, running: string, wanted: string): VendettaError {
  return new VendettaError(
    'AGENT_INSTALL_FAILED',
    `The agent on ${node} still runs build ${running} after the upgrade to ${wanted}`,
    {
      node,
      hint: `Reinstall it: \`vendetta node remove ${node} --purge\`, then \`vendetta node add ${node} …\`.`,
    },
  );
}

/** Waits for a stopping daemon to exit, and stops it by pid if it does not. */
export async function stopPid(client: Client, node: string, pid: number, log: Logger): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 1) return;
  const waited = await execCollect(client, node, shScript(WAIT_FOR_EXIT, [String(pid)]), { timeoutMs: 15_000 });
  if (waited.code === 0) return;
  log.warn('the agent daemon did not exit after agent/shutdown; sending SIGTERM', { node, pid });
  await execCollect(client, node, shScript(KILL_PROCESS, [String(pid)]), { timeoutMs: 15_000 });
}
