/** Show Workspace Logs: a workspace's (or one service's) logs, followed, in an output channel. */
import type { CommandContext } from './context';
import { resolveWorkspace } from './pickers';
import { asTreeElement } from './targets';

export async function showWorkspaceLogs(ctx: CommandContext, arg?: unknown): Promise<void> {
  const el = asTreeElement(arg);
  const service = el?.kind === 'service' ? el.service.name : undefined;
  const w = await resolveWorkspace(ctx, arg, { title: 'Show Workspace Logs', states: ['running', 'stopped', 'error'] });
  await ctx.logFollowers.show(w, service);
}
