/**
 * `vendetta node test NAME`: each step of reaching a node's agent on a fresh connection, timed,
 * with what went wrong and what to do. Stops at the first failure, except that every provider
 * gets its own line.
 */
import type { Client } from 'ssh2';
import { localTime } from '../timeText';
import { InspectNode, RUNNABLE_PROVIDERS, type NodeInfo, type ProviderName } from '../../agent/protocol';
import { toVendettaError, VendettaError } from '../errors';
import { agentBundlePath, type HomePaths } from '../home';
import type { Logger } from '../log';
import type { TestStep } from '../protocol';
import { attachAgent, type AttachedAgent } from './agentAttach';
import { openSsh } from './connect';
import { execCollect } from './exec';
import { KnownHosts } from './knownHosts';
import { readLocalBundle } from './localBundle';
import { NODE_CANDIDATES, parseProbe, probeScript } from './remoteScripts';
import { shScript } from './shellQuote';
import { withTimeout } from '../../common/async/timeout';
import { hostPort, type SshNodeTarget } from './target';

export interface DiagnoseOptions {
  paths: HomePaths;
  log: Logger;
  agentBundle?: string;
}

const PROVIDER_HINTS: Record<ProviderName, string> = {
  docker: 'Install Docker Engine on the node and add the SSH user to the `docker` group (then reconnect).',
  lxc: 'Install LXD/Incus (and add the user to its group) or the classic lxc tools on the node.',
  qemu: 'Install qemu-system-x86 (Debian: `apt-get install qemu-system-x86 qemu-utils`) on the node.',
};

class Steps {
  readonly steps: TestStep[] = [];
  private last = Date.now();

  pass(name: string, detail: string, optional = false): void {
    this.push({ name, ok: true, detail, ...(optional ? { optional } : {}) });
  }

  fail(name: string, err: VendettaError | { message: string; hint?: string }, optional = false): void {
    this.push({ name, ok: false, detail: err.message, hint: err.hint, ...(optional ? { optional } : {}) });
  }

  /** Restarts the clock (time spent between steps is not any step's). */
  mark(): void {
    this.last = Date.now();
  }

  private push(s: Omit<TestStep, 'elapsedMs'>): void {
    const now = Date.now();
    this.steps.push({ ...s, ...(s.hint ? {} : { hint: undefined }), elapsedMs: now - this.last });
    this.last = now;
  }
}

export async function diagnoseNode(target: SshNodeTarget, opts: DiagnoseOptions): Promise<TestStep[]> {
  const st = new Steps();
  const where = hostPort(target.host, target.port);
  const tcpName = `DNS + TCP ${where}`;
  const pinned = (() => {
    try {
      return new KnownHosts(opts.paths.knownHosts).lookup(target.host, target.port);
    } catch {
      return undefined;
    }
  })();
  const keyName = pinned ? `host key (pinned ${pinned.fingerprint})` : 'host key (not pinned)';
  const authName = `SSH auth as ${target.user}`;

  // Written from onPhase; an object so the compiler does not narrow it to its initial value.
  const at: { reached: 'none' | 'tcp' | 'hostKey' | 'auth' } = { reached: 'none' };
  let client: Client | undefined;
  try {
    const link = await openSsh(target, {
      paths: opts.paths,
      log: opts.log,
      timeoutMs: 10_000,
      onPhase: (phase, d) => {
        at.reached = phase;
        if (phase === 'tcp') st.pass(tcpName, `${d.address} answered`);
        if (phase === 'hostKey') st.pass(keyName, `${d.hostKey?.keyType} ${d.hostKey?.fingerprint} matches the pin`);
        if (phase === 'auth') st.pass(authName, `logged in as ${target.user}`);
      },
    });
    client = link.client;
  } catch (err) {
    const e = toVendettaError(err);
    if (
      at.reached === 'none' &&
      (e.code === 'NODE_UNREACHABLE' ||
        e.code === 'INVALID_HOST' ||
        e.code === 'INVALID_PARAMS' ||
        e.code === 'INVALID_NAME')
    )
      st.fail(tcpName, e);
    else if (at.reached === 'none' && e.code === 'IDENTITY_INVALID') st.fail(authName, e);
    else if (at.reached === 'tcp') st.fail(e.code === 'AUTH_FAILED' ? authName : keyName, e);
    else st.fail(authName, e);
    return st.steps;
  }
  client.on('error', () => undefined);

  let attached: AttachedAgent | undefined;
  try {
    st.mark();
    const bundle = await readLocalBundle(opts.agentBundle ?? agentBundlePath());
    const probeOut = await execCollect(
      client,
      target.name,
      shScript(probeScript(NODE_CANDIDATES), [bundle.dirName, bundle.sha256, 'probe', '']),
      { timeoutMs: 20_000 },
    );
    const probe = parseProbe(probeOut.stdout.split('\n'));
    if (!probe.runtime) {
      const found = probe.candidates.map((c) => `${c.version} at ${c.path}`).join(', ');
      st.fail('Node.js runtime', {
        message: found
          ? `only ${found}; the agent needs 18 or newer`
          : 'no Node.js found (PATH, /usr/local/bin, /usr/bin, ~/.nvm, /opt/node*)',
        hint: `Install Node.js 18 or newer on ${target.host} (Debian/Ubuntu: \`sudo apt-get install nodejs\`), or let vendetta bring one: \`vendetta node add … --install-runtime upload|package\` (or \`runtime: upload\` for this node in nodes.yaml).`,
      });
      return st.steps;
    }
    st.pass(
      `Node.js runtime (${probe.runtime.version} at ${probe.runtime.path})`,
      probe.bundle === 'ok'
        ? `agent ${bundle.version} (build ${bundle.buildId}) is installed`
        : `agent ${bundle.version} (build ${bundle.buildId}) is not installed yet`,
    );

    try {
      attached = await attachAgent(client, {
        node: target.name,
        host: target.host,
        bundle,
        log: opts.log,
        install: true,
      });
    } catch (err) {
      st.fail('agent', toVendettaError(err));
      return st.steps;
    }
    const info = attached.info;
    const how = [attached.installed ? 'installed now' : '', attached.upgraded ? 'upgraded now' : '']
      .filter(Boolean)
      .join(', ');
    st.pass(
      `agent (${info.agentVersion}, pid ${info.pid})`,
      `build ${info.buildId}, running since ${localTime(info.startedAt)}${how ? `; ${how}` : ''}`,
    );

    let nodeInfo: NodeInfo;
    try {
      nodeInfo = await withTimeout(
        attached.session.request(InspectNode),
        30_000,
        () =>
          new VendettaError('AGENT_ERROR', `The agent on ${target.name} did not report its providers within 30 s`, {
            node: target.name,
            hint: 'A provider probe hangs on the node; the agent log under ~/.vendetta-agent/logs says which.',
          }),
      );
    } catch (err) {
      st.fail('providers', toVendettaError(err));
      return st.steps;
    }
    for (const name of RUNNABLE_PROVIDERS) {
      const p = nodeInfo.providers[name];
      const label = p.available && p.version ? `${name} (${p.version})` : name;
      if (p.available) {
        const extra =
          name === 'qemu' ? (nodeInfo.providers.qemu.kvm ? 'KVM usable' : 'no KVM: VMs run slowly (TCG)') : '';
        // Marked like a missing one: testPassed() needs to see every provider to find one that works.
        st.pass(label, [p.version ? `version ${p.version}` : 'available', extra].filter(Boolean).join('; '), true);
      } else {
        st.fail(label, { message: p.error ?? 'not available', hint: p.hint ?? PROVIDER_HINTS[name] }, true);
      }
    }
    return st.steps;
  } catch (err) {
    // Lost the link between steps: say so on the step that was running.
    st.fail(st.steps.length <= 3 ? 'Node.js runtime' : 'agent', toVendettaError(err));
    return st.steps;
  } finally {
    if (attached) {
      attached.session.dispose();
      attached.channel.close();
    }
    client.end();
  }
}
