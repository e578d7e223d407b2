/** ports/detect: the TCP ports listening inside a workspace now (see workspaces/portWatch.ts). */
import type { WorkspaceDetectedPorts } from '../protocol';
import type { HandlerSpec } from '../daemon/context';
import { validateWorkspaceOnly } from './serviceParams';

export const detectPorts: HandlerSpec<{ workspace: string }, WorkspaceDetectedPorts> = {
  validate: validateWorkspaceOnly('ports/detect'),
  async handle(p, { daemon }) {
    const t = await daemon.workspaces.serviceTarget(p.workspace);
    const running = t.running && t.providerId !== undefined;
    return daemon.ports.detect(
      p.workspace,
      running ? { name: p.workspace, provider: t.provider, providerId: t.providerId! } : undefined,
    );
  },
};
