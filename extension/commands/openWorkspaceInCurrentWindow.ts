/** Open Workspace in Current Window (Remote-SSH). Returns the vscode-remote URI it opened. */
import type { CommandContext } from './context';
import { openWorkspace } from './openWorkspace';

export function openWorkspaceInCurrentWindow(ctx: CommandContext, arg?: unknown): Promise<string> {
  return openWorkspace(ctx, arg, false);
}
