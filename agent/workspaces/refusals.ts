/** The refusals of the workspace manager, each with what to do about it. */
import { AgentError } from '../errors';
import type { WorkspaceSpec } from '../protocol';
import { NodePortTakenError } from '../providers/contract';
import { describeDifferences, type BakedDifference } from './baked';
import type { WorkspaceRecord } from './state';

/** A start refused because a published node port is taken now: say which, and what to do. */
export function portTakenError(err: unknown, name: string, rec: WorkspaceRecord): AgentError | undefined {
  if (!(err instanceof NodePortTakenError)) return undefined;
  const taken = err.nodePort;
  const guestPort = Object.entries(rec.servicePorts ?? {}).find(([, n]) => n === taken)?.[0];
  const service = rec.spec.services?.find((s) => String(s.port) === guestPort)?.name;
  const where = service
    ? ` (where service ${service} is published)`
    : taken === rec.sshPort
      ? ` (where the workspace's SSH server is published)`
      : '';
  return new AgentError(
    'PROVIDER_ERROR',
    `Workspace ${name} cannot start: port ${taken} on the node's 127.0.0.1${where} is taken by another process`,
    {
      provider: rec.provider,
      hint: `Stop what listens on 127.0.0.1:${taken} on the node, or make the workspace again with another free port: \`vendetta workspace up --recreate\` (it keeps the workspace folder; the rest of the ${rec.provider} workspace is made anew).`,
      cause: err,
    },
  );
}

/** A create of a name this node already has under another provider. */
export function otherProvider(spec: WorkspaceSpec, existing: WorkspaceRecord): AgentError {
  return new AgentError(
    'WORKSPACE_CONFLICT',
    `Workspace ${spec.name} already exists on this node as a ${existing.provider} workspace`,
    { hint: `Remove it first (\`vendetta workspace rm ${spec.name}\`) or pick another name.` },
  );
}

export function notFound(name: string): AgentError {
  return new AgentError('WORKSPACE_NOT_FOUND', `There is no workspace ${name} on this node`, {
    hint: 'List them with `vendetta workspace list`.',
  });
}

export function missing(rec: WorkspaceRecord): AgentError {
  return new AgentError(
    'WORKSPACE_MISSING',
    `The ${rec.provider} workspace ${rec.spec.name} was removed outside Vendetta`,
    {
      provider: rec.provider,
      hint: `Create it again (\`vendetta workspace up\`) or remove it (\`vendetta workspace rm ${rec.spec.name} --force\`).`,
    },
  );
}

/** The container no longer fits the config: say what differs, and what `--recreate` keeps and loses. */
export function outdated(spec: WorkspaceSpec, diffs: readonly BakedDifference[]): AgentError {
  return new AgentError(
    'WORKSPACE_OUTDATED',
    `Workspace ${spec.name} no longer matches its config: ${describeDifferences(diffs)}`,
    {
      provider: spec.provider,
      hint: `\`vendetta workspace up --recreate\` makes it again from the config. It keeps the workspace folder ${spec.workspaceFolder} (the project's files) and the workspace's host key; anything outside that folder (installed packages, home folders, /tmp) is lost.`,
    },
  );
}
