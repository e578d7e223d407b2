/**
 * `vendetta node test local`: the steps that apply to the embedded node (no DNS, TCP or SSH):
 * the Node.js runtime, the agent, and each provider the agent finds.
 */
import { existsSync } from 'node:fs';
import { InspectNode, RUNNABLE_PROVIDERS, type NodeInfo, type ProviderName } from '../../agent/protocol';
import { toVendettaError } from '../errors';
import type { TestStep } from '../protocol';
import type { AgentClient } from './agentClient';
import { checkNodeInfo } from './agentReplies';

const PROVIDER_HINTS: Record<ProviderName, string> = {
  docker: "Install Docker and start dockerd; the agent's user needs access to its socket (the docker group).",
  lxc: "Install LXD or Incus (`vendetta node prepare NODE --provider lxc` can), and give the agent's user access to its socket (the lxd or incus-admin group).",
  qemu: 'Install QEMU (`apt install qemu-system-x86 qemu-utils`); a usable /dev/kvm makes it fast.',
};

/** One step per provider, from the agent's node/inspect. */
export function providerSteps(info: NodeInfo, elapsedMs: number): TestStep[] {
  return RUNNABLE_PROVIDERS.map((p) => {
    const s = info.providers[p];
    const kvm = p === 'qemu' ? (info.providers.qemu.kvm ? ', KVM usable' : ', no KVM (slow TCG emulation)') : '';
    const step: TestStep = {
      name: `provider ${p}`,
      ok: s.available,
      optional: true,
      detail: s.available ? `${p} ${s.version ?? '(version unknown)'}${kvm}` : (s.error ?? `${p} not found`),
      elapsedMs,
    };
    if (!s.available) step.hint = PROVIDER_HINTS[p];
    return step;
  });
}

export async function diagnoseLocal(client: AgentClient, agentBundle: string): Promise<TestStep[]> {
  const steps: TestStep[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  steps.push({
    name: 'Node.js runtime',
    ok: major >= 18,
    detail: `Node.js ${process.version} at ${process.execPath}`,
    ...(major >= 18 ? {} : { hint: 'The agent needs Node.js 18 or newer.' }),
    elapsedMs: 0,
  });
  const bundleOk = existsSync(agentBundle);
  steps.push({
    name: 'agent bundle',
    ok: bundleOk,
    detail: bundleOk ? agentBundle : `missing: ${agentBundle}`,
    ...(bundleOk ? {} : { hint: 'Reinstall vendetta (or run `npm run build` in a source checkout).' }),
    elapsedMs: 0,
  });
  if (!bundleOk) return steps;

  let t0 = Date.now();
  try {
    const agent = await client.connect();
    steps.push({
      name: 'agent',
      ok: true,
      detail: `vendetta-agent ${agent.agentVersion}, daemon pid ${agent.pid}`,
      elapsedMs: Date.now() - t0,
    });
  } catch (err) {
    steps.push(failedStep('agent', err, "The coordinator log has the agent's output.", t0));
    return steps;
  }
  t0 = Date.now();
  try {
    const info = checkNodeInfo(await client.request(InspectNode), client.nodeName);
    steps.push(...providerSteps(info, Date.now() - t0));
  } catch (err) {
    steps.push(failedStep('providers', err, 'The coordinator log has the details.', t0));
  }
  return steps;
}

/** A step that failed with `err`: its message, and its hint or `fallbackHint`. */
function failedStep(name: string, err: unknown, fallbackHint: string, startedAt: number) {
  const e = toVendettaError(err);
  return { name, ok: false, detail: e.message, hint: e.hint ?? fallbackHint, elapsedMs: Date.now() - startedAt };
}
