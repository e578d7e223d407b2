/** Show Extension Log: the extension's own "Vendetta" log channel (not a workspace's logs). */
import type { CommandContext } from './context';

export async function showExtensionLog(ctx: CommandContext): Promise<void> {
  ctx.log.show(true);
}
