/** The answers of `node status` and `node test`, assembled from one node's agent and SSH checks. */
import { InspectNode, Ping } from '../../agent/protocol';
import { withTimeout } from '../../common/async/timeout';
import { toVendettaError, VendettaError } from '../errors';
import type { NodeStatus, NodeSummary, TestStep } from '../protocol';
import type { AgentClient } from './agentClient';
import { checkNodeInfo, checkPing } from './agentReplies';
import { runtimeOf, toStatus, toSummary, type NodeFacts, type ResolvedNode } from './nodeSummary';

/** One ping through the client, in milliseconds. */
export async function timedPing(client: AgentClient, name: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  checkPing(await client.request(Ping), name);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Asks a node for its info and latency within `timeoutMs`, records both (or the error) in `facts`;
 * a node that fails is reported offline, never thrown.
 */
export async function probeNode(
  node: ResolvedNode,
  client: AgentClient,
  facts: NodeFacts,
  timeoutMs: number,
): Promise<NodeStatus> {
  const unreachable = () =>
    new VendettaError('NODE_UNREACHABLE', `${node.name} did not answer within ${timeoutMs / 1000} s`, {
      node: node.name,
      hint: `Run \`vendetta node test ${node.name}\` to see which step fails.`,
    });
  try {
    const info = await withTimeout(
      (async () => {
        await client.connect();
        // Both at once: one round trip of waiting, not two.
        const [latencyMs, info] = await Promise.all([timedPing(client, node.name), client.request(InspectNode)]);
        facts.latencyMs = latencyMs;
        return checkNodeInfo(info, node.name);
      })(),
      timeoutMs,
      unreachable,
    );
    facts.info = info;
    facts.error = undefined;
    return toStatus(toSummary(node, client, facts), info, runtimeOf(node, client, info));
  } catch (err) {
    const e = toVendettaError(err);
    facts.error = e;
    const summary = toSummary(node, client, facts);
    // The link may still look up (keep-alive has not noticed yet); this request says otherwise.
    summary.status = 'offline';
    summary.latencyMs = null;
    summary.error = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    return toStatus(summary, undefined);
  }
}

/** What counts as a change worth a notification: not the ever-moving lastSeen and latency. */
export function changeKey(nodes: NodeSummary[]): string {
  return JSON.stringify(nodes.map(({ lastSeen: _l, latencyMs: _ms, ...rest }) => rest));
}

/**
 * A node passes when every required step passed and it can host workspaces with at least one
 * provider: a provider it lacks is reported, not a failure.
 */
export function testPassed(steps: readonly TestStep[]): boolean {
  const providers = steps.filter((s) => s.optional);
  return steps.every((s) => s.ok || s.optional) && (providers.length === 0 || providers.some((s) => s.ok));
}
