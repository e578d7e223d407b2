/** What the LXC provider refuses, and the errors it says them with. */
import { AgentError } from '../../errors';
import type { LxcWorkspaceSpecMember, WorkspaceSpec } from '../../protocol';
import type { ProviderCreateRequest } from '../contract';
import { specFor } from '../specFor';
import type { LxcSpecPart } from './api';

export const lxcSpec = (spec: WorkspaceSpec): LxcWorkspaceSpecMember => specFor('lxc', spec);

export function lxcPart(req: ProviderCreateRequest): LxcSpecPart & { target?: string } {
  return lxcSpec(req.spec).lxc;
}

/** `…listen tcp 127.0.0.1:41234: bind: address already in use` in a failed start. */
export function takenNodePort(message: string): number | undefined {
  const m = /127\.0\.0\.1:(\d{1,5}): bind: address already in use/.exec(message);
  return m ? Number(m[1]) : undefined;
}

export function conflict(name: string, workspace: string): AgentError {
  return new AgentError(
    'WORKSPACE_CONFLICT',
    `An instance named ${name} already exists on this node and was not made for workspace ${workspace} by this agent`,
    {
      provider: 'lxc',
      hint: `Remove or rename it on the node (\`lxc delete ${name}\`), or pick another workspace name.`,
    },
  );
}

export function missing(id: string): never {
  throw new AgentError('WORKSPACE_MISSING', `The instance ${id} no longer exists`, {
    provider: 'lxc',
    hint: 'It was deleted outside Vendetta; `vendetta workspace up` makes it again (the project folder and host key are kept).',
  });
}
