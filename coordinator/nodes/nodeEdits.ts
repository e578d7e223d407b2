/**
 * The checks and records around the commands that change the node list (`node add`, `prepare`,
 * `remove`): who may be changed now, what nodes.yaml gets, and what `node add` answers.
 */
import { notRunnableReason, RUNNABLE_PROVIDERS, type NodeInfo } from '../../agent/protocol';
import type { NodeEntry } from '../config/nodes';
import { toVendettaError, VendettaError } from '../errors';
import type { AddNodeParams, AddNodeResult, PrepareProvider } from '../protocol';
import type { AgentClient } from './agentClient';
import type { AddNodeInput, AddNodeOutcome } from './addNode';
import { resolveEntry, runtimeOf, toStatus, toSummary, type NodeFacts, type ResolvedNode } from './nodeSummary';
import { LOCAL_NODE_NAME, type NodeRegistry } from './registry';
import type { SshNodeTarget } from './sshLayer';

export type AddRequest = AddNodeParams & { port: number; user: string };

/** Throws unless `node add` may (re-)add `name` now. */
export function assertAddable(params: AddRequest, registry: NodeRegistry, busy: ReadonlySet<string>): void {
  const { name } = params;
  if (name === LOCAL_NODE_NAME) {
    throw new VendettaError('INVALID_NAME', 'The node "local" is built in and cannot be added', {
      hint: 'Choose another name for the node.',
    });
  }
  registry.assertWritable();
  if (registry.get(name) && !params.replaceHostKey) {
    throw new VendettaError('NODE_EXISTS', `A node named ${name} already exists`, {
      node: name,
      hint: `Remove it first (\`vendetta node remove ${name}\`), or re-add it with --replace-host-key to re-pin its host key.`,
    });
  }
  if (busy.has(name)) {
    throw new VendettaError('NODE_EXISTS', `The node ${name} is being added right now`, {
      node: name,
      hint: 'Wait for the other `node add` to finish.',
    });
  }
}

/** What `performAddNode` is asked to do for an `add` request. */
export function addNodeInput(params: AddRequest, registry: NodeRegistry): AddNodeInput {
  const node = resolveEntry({
    name: params.name,
    host: params.host,
    port: params.port,
    user: params.user,
    transport: 'ssh',
    ...(params.identity ? { identity: params.identity } : {}),
    ...(params.labels ? { labels: params.labels } : {}),
  });
  // Re-adding (a replaced host key) keeps what the node was given before.
  const previousRuntime = registry.get(params.name)?.runtime;
  return {
    node: { ...node, ...(previousRuntime ? { runtime: previousRuntime } : {}) },
    hostKeyFingerprint: params.hostKeyFingerprint,
    acceptNewHostKey: params.acceptNewHostKey === true,
    replaceHostKey: params.replaceHostKey === true,
    install: params.install !== false,
    ...(params.installRuntime ? { runtime: params.installRuntime } : {}),
  };
}

/** The answer of `node add`: the node's status, its host key, and what the add brought it. */
export function addNodeResult(
  added: { node: ResolvedNode; client: AgentClient; facts: NodeFacts },
  outcome: AddNodeOutcome,
): AddNodeResult {
  const info: NodeInfo | undefined = outcome.info;
  const result: AddNodeResult = {
    node: toStatus(toSummary(added.node, added.client, added.facts), info, runtimeOf(added.node, added.client, info)),
    hostKeyFingerprint: outcome.node.hostKey ?? outcome.hostKey.fingerprint,
  };
  if (outcome.runtimeProvided) result.runtimeInstalled = { ...outcome.runtimeProvided };
  const id = outcome.identity;
  const { node } = outcome;
  if (id.generated && id.privateKeyPath && id.publicKey) {
    const port = node.port === 22 ? '' : ` -p ${node.port}`;
    result.generatedPublicKey = {
      path: `${id.privateKeyPath}.pub`,
      publicKey: id.publicKey,
      installHint: `ssh-copy-id -i ${id.privateKeyPath}.pub${port} ${node.user}@${node.host}`,
    };
  }
  return result;
}

/** Throws unless `node prepare` may install `provider` on `node` (dry runs skip the runnable check). */
export function assertPreparable(
  node: ResolvedNode,
  provider: PrepareProvider,
  dryRun: boolean,
  busy: ReadonlySet<string>,
): void {
  const { name } = node;
  if (node.transport !== 'ssh') {
    throw new VendettaError('INVALID_PARAMS', `node prepare works on nodes reached over SSH; ${name} is this machine`, {
      node: name,
      hint: 'Install the provider on this machine yourself (e.g. `sudo apt-get install docker.io`).',
    });
  }
  if (busy.has(name))
    throw new VendettaError('NODE_EXISTS', `The node ${name} is being added or prepared right now`, {
      node: name,
      hint: 'Wait for the other command to finish.',
    });
  // Installing what the agent cannot use yet would change a node for nothing; the plan may still be shown.
  if (!dryRun && !RUNNABLE_PROVIDERS.includes(provider)) {
    throw new VendettaError('INVALID_PARAMS', `Not preparing ${name} for ${provider}: ${notRunnableReason(provider)}`, {
      node: name,
      hint: `\`vendetta node prepare ${name} --provider ${provider} --dry-run\` shows the commands it will run; \`--provider docker\` works now.`,
    });
  }
}

/** Throws unless `name` is a node that `remove` may remove (not the built-in one, a writable registry). */
export function assertRemovableName(name: string): void {
  if (name === LOCAL_NODE_NAME) {
    throw new VendettaError('INVALID_NAME', 'The node "local" is built in and cannot be removed', {
      hint: 'Remove only nodes you added.',
    });
  }
}

/** A purge failure, said as such, with the way to remove the node without one. */
export function purgeFailed(name: string, err: unknown): VendettaError {
  const e = toVendettaError(err);
  return new VendettaError(e.code, `Could not purge the agent on ${name}: ${e.message}`, {
    node: name,
    cause: e,
    hint: `${e.hint ?? ''} To remove the node without cleaning it up, run \`vendetta node remove ${name}\` without --purge.`.trim(),
  });
}

/** Whether another registered node still uses the host key pinned for host:port. */
export function hostStillUsed(registry: NodeRegistry, node: ResolvedNode): boolean {
  return registry.list().some((e) => e.host === node.host && (e.port ?? 22) === node.port);
}

export function sshTarget(node: ResolvedNode): SshNodeTarget {
  return {
    name: node.name,
    host: node.host,
    port: node.port,
    user: node.user,
    ...(node.identity ? { identity: node.identity } : {}),
  };
}

export function toEntry(node: ResolvedNode): NodeEntry {
  const e: NodeEntry = { name: node.name, host: node.host, port: node.port, user: node.user };
  if (node.identity) e.identity = node.identity;
  if (node.hostKey) e.hostKey = node.hostKey;
  if (node.runtime) e.runtime = node.runtime;
  if (node.labels && Object.keys(node.labels).length > 0) e.labels = { ...node.labels };
  return e;
}
