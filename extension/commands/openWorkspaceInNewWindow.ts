/** Open Workspace in New Window (Remote-SSH). Returns the vscode-remote URI it opened. */
import type { CommandContext } from './context';
import { openWorkspace } from './openWorkspace';

export function openWorkspaceInNewWindow(ctx: CommandContext, arg?: unknown): Promise<string> {
  return openWorkspace(ctx, arg, true);
}
