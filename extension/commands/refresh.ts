/** Refresh: fetch nodes and workspaces anew (and start the coordinator if it is not running). */
import type { CommandContext } from './context';

export async function refresh(ctx: CommandContext): Promise<void> {
  ctx.refresh.refreshNow();
  await ctx.client.ensureConnected();
}
