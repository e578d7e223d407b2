/**
 * `node add`: learn and confirm the host key, prepare the SSH key, install and start the agent,
 * and only then save. Nothing is written to nodes.yaml before every step succeeded, so a kill at
 * any point leaves the registry as it was; a host key pinned for this attempt is unpinned again
 * when a later step fails.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import { InspectNode, type NodeInfo } from '../../agent/protocol';
import { toVendettaError, VendettaError } from '../errors';
import { unreachable } from '../ssh/tcp';
import type { Logger } from '../log';
import type { RuntimeChoice } from '../ssh/provideRuntime';
import type { AgentClient } from './agentClient';
import { checkNodeInfo } from './agentReplies';
import type { ResolvedNode } from './nodeSummary';
import type { HostKey, IdentityInfo, SshLayer } from './sshLayer';

export interface AddNodeInput {
  node: ResolvedNode;
  hostKeyFingerprint?: string;
  acceptNewHostKey: boolean;
  replaceHostKey: boolean;
  install: boolean;
  /** When the node has no usable Node.js (absent: fail with the offers, the user decides). */
  runtime?: RuntimeChoice;
}

export type ProgressFn = (step: number, total: number, message: string) => void;

export interface AddNodeContext {
  ssh: SshLayer;
  log: Logger;
  progress: ProgressFn;
  /** Cancelled (e.g. the client went away): stop before the next step and undo. */
  token?: CancellationToken;
  /** Writes the registry; called last, with the connected client (if installed). */
  save: (node: ResolvedNode, client: AgentClient | undefined) => void;
}

export interface AddNodeOutcome {
  node: ResolvedNode;
  client: AgentClient | undefined;
  hostKey: HostKey;
  identity: IdentityInfo;
  info: NodeInfo | undefined;
  /** The Node.js this add brought the node, if it brought one. */
  runtimeProvided?: AgentClient['runtimeProvided'];
}

/**
 * The steps of an add, in order, as progress counts them. With an install, the key exchange of
 * the connection that installs the agent shows the host key, so the SSH key is prepared first.
 */
const ADD_STEPS = {
  install: ['key', 'hostKey', 'agent', 'save'],
  probe: ['hostKey', 'key', 'save'],
} as const;
type AddStep = (typeof ADD_STEPS)[keyof typeof ADD_STEPS][number];

export async function performAddNode(input: AddNodeInput, ctx: AddNodeContext): Promise<AddNodeOutcome> {
  const { node } = input;
  const { ssh, log } = ctx;
  const steps: readonly AddStep[] = input.install ? ADD_STEPS.install : ADD_STEPS.probe;
  const checkCancelled = () => {
    if (ctx.token?.isCancellationRequested) {
      throw new VendettaError('CANCELLED', `Adding ${node.name} was cancelled; nothing was saved`, {
        node: node.name,
        hint: 'Run `vendetta node add` again to add it.',
      });
    }
  };
  const progress = (step: AddStep, message: string) => {
    checkCancelled();
    ctx.progress(steps.indexOf(step) + 1, steps.length, message);
  };

  const checking = `Checking the host key of ${node.host}:${node.port}…`;
  let hostKey: HostKey | undefined;
  let undoPin: (() => Promise<void>) | undefined;
  /** Pins what decideHostKey accepts, remembering how to undo it. */
  const accept = async (presented: HostKey) => {
    const pinned = ssh.lookupPin(node.host, node.port);
    const mustPin = decideHostKey(input, presented, pinned);
    hostKey = presented;
    if (!mustPin) return;
    await ssh.pin(node.host, node.port, presented);
    undoPin = pinned ? () => ssh.pin(node.host, node.port, pinned) : () => ssh.unpin(node.host, node.port);
  };

  let identity: IdentityInfo | undefined;
  let client: AgentClient | undefined;
  try {
    let info: NodeInfo | undefined;
    if (input.install) {
      // The key exchange of the connection that installs the agent shows the host key: it is
      // decided (and pinned) there, before authentication, instead of on a connection of its own.
      progress('key', 'Preparing the SSH key…');
      identity = await ssh.ensureIdentity(node.identity);
      progress('hostKey', checking);
      client = ssh.createAgentClient(
        {
          name: node.name,
          host: node.host,
          port: node.port,
          user: node.user,
          ...(node.identity ? { identity: node.identity } : {}),
        },
        {
          install: true,
          ...(input.runtime ? { runtime: input.runtime } : {}),
          checkHostKey: async (presented) => {
            await accept(presented);
            progress('agent', 'Installing and starting the agent…');
          },
          onStatus: (message) => progress('agent', message),
        },
      );
      await client.connect().catch((err: unknown) => {
        throw hostKey ? err : notReached(withNode(err, node.name), node);
      });
      info = checkNodeInfo(await client.request(InspectNode), node.name);
    } else {
      // Nothing to install: reading the key is the only connection.
      progress('hostKey', checking);
      const presented = await ssh.probeHostKey(node.host, node.port).catch((err: unknown) => {
        throw notReached(withNode(err, node.name), node);
      });
      await accept(presented);
      progress('key', 'Preparing the SSH key…');
      identity = await ssh.ensureIdentity(node.identity);
    }
    if (!hostKey) throw new VendettaError('INTERNAL', `The host key of ${node.name} was never checked`);
    const saved: ResolvedNode = { ...node, hostKey: normalize(hostKey.fingerprint) };
    // Remembered, so that a later connect may upload it again without asking.
    const runtimeProvided = client?.runtimeProvided;
    if (runtimeProvided) saved.runtime = runtimeProvided.how;
    progress('save', 'Saving the node…');
    ctx.save(saved, client);
    return { node: saved, client, hostKey, identity, info, ...(runtimeProvided ? { runtimeProvided } : {}) };
  } catch (err) {
    await client?.close().catch(() => undefined);
    if (undoPin)
      await undoPin().catch((e: unknown) =>
        log.warn('could not restore known_hosts after a failed add', { node: node.name, err: e }),
      );
    const e = withNode(err, node.name);
    throw identity ? explainAuth(e, identity, node) : e;
  }
}

/**
 * Returns true when the presented key must be pinned (new or replacing), false when it is
 * already pinned; throws when it is neither confirmed nor allowed.
 */
export function decideHostKey(input: AddNodeInput, presented: HostKey, pinned: HostKey | undefined): boolean {
  const { node } = input;
  const fp = normalize(presented.fingerprint);
  const where = `${node.host}:${node.port}`;
  if (input.hostKeyFingerprint !== undefined && normalize(input.hostKeyFingerprint) !== fp) {
    throw new VendettaError(
      'HOST_KEY_MISMATCH',
      `The host key of ${where} is ${fp}, not ${normalize(input.hostKeyFingerprint)} as given`,
      {
        node: node.name,
        hint: 'Check the fingerprint on the node (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`). If they differ, someone may be intercepting the connection.',
        details: {
          host: node.host,
          port: node.port,
          keyType: presented.keyType,
          expectedFingerprint: normalize(input.hostKeyFingerprint),
          presentedFingerprint: fp,
        },
      },
    );
  }
  if (pinned && normalize(pinned.fingerprint) === fp) return false;
  if (pinned && !input.replaceHostKey) {
    const old = normalize(pinned.fingerprint);
    throw new VendettaError(
      'HOST_KEY_MISMATCH',
      `The host key of ${where} changed: pinned ${old}, the node now presents ${fp}`,
      {
        node: node.name,
        hint: `If the node was reinstalled on purpose, re-pin its key: \`vendetta node add ${node.name} --host ${node.host} --port ${node.port} --replace-host-key --host-key-fingerprint ${fp}\`. Otherwise someone may be intercepting the connection.`,
        details: {
          host: node.host,
          port: node.port,
          keyType: presented.keyType,
          pinnedFingerprint: old,
          presentedFingerprint: fp,
        },
      },
    );
  }
  if (input.hostKeyFingerprint !== undefined || input.acceptNewHostKey) return true;
  const details: Record<string, unknown> = {
    host: node.host,
    port: node.port,
    keyType: presented.keyType,
    fingerprint: fp,
  };
  if (pinned) details.pinnedFingerprint = normalize(pinned.fingerprint);
  throw new VendettaError(
    'HOST_KEY_UNCONFIRMED',
    `The host key of ${where} is not confirmed: ${fp} (${presented.keyType})`,
    {
      node: node.name,
      hint: `Check it on the node (\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`), then pass --host-key-fingerprint ${fp}, or --accept-new-host-key to trust the key the node presents.`,
      details,
    },
  );
}

/** OpenSSH prints SHA256 fingerprints without base64 padding; compare them that way. */
export function normalize(fingerprint: string): string {
  return fingerprint.replace(/=+$/, '');
}

function withNode(err: unknown, node: string): VendettaError {
  const e = toVendettaError(err);
  if (e.node) return e;
  return new VendettaError(e.code, e.message, {
    hint: e.hint,
    node,
    provider: e.provider,
    details: e.details,
    cause: e.cause,
  });
}

/**
 * The probe names the host where the node's name belongs, and its hint suggests `node test HOST`,
 * which refuses what is not a registered node: name the node, and say what does work.
 */
function notReached(e: VendettaError, node: ResolvedNode): VendettaError {
  if (e.code !== 'NODE_UNREACHABLE') return e;
  const again = unreachable(node.name, node.host, node.port, e.cause);
  const port = node.port === 22 ? '' : ` -p ${node.port}`;
  return new VendettaError(e.code, again.message, {
    node: node.name,
    cause: e.cause,
    hint: `Nothing was saved. Check that the node is up and that \`ssh${port} ${node.user}@${node.host}\` works from here, then run the same \`vendetta node add ${node.name} …\` again.`,
  });
}

/** A key vendetta just made cannot be on the node yet: say how to put it there. */
function explainAuth(e: VendettaError, identity: IdentityInfo, node: ResolvedNode): VendettaError {
  if (e.code !== 'AUTH_FAILED' || !identity.generated || !identity.privateKeyPath) return e;
  const port = node.port === 22 ? '' : ` -p ${node.port}`;
  return new VendettaError(e.code, e.message, {
    node: node.name,
    cause: e.cause,
    hint: `vendetta made a new key for you; install it on the node, then retry: \`ssh-copy-id -i ${identity.privateKeyPath}.pub${port} ${node.user}@${node.host}\``,
    details: { ...e.details, publicKey: identity.publicKey },
  });
}
