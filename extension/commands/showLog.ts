/** Show Log: the "Vendetta" log channel. */
import type { CommandContext } from './context';

export async function showLog(ctx: CommandContext): Promise<void> {
  ctx.log.show(true);
}
