/**
 * The VS Code side of sync conflicts: the read-only documents that show the workspace's copy of
 * a file (fetched from the node's agent through the coordinator), the diff against this folder's
 * file, and the notification an `up` with conflicts ends with. The flow itself is conflictModel.ts.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ReadWorkspaceFileRequest, ResolveConflictRequest, type SyncConflict } from '../../coordinator/protocol';
import type { CoordinatorClient } from '../client/coordinatorClient';
import type { CommandContext } from '../commands/context';
import {
  conflictNotice,
  parseWorkspaceFileQuery,
  SHOW_CONFLICTS,
  walkConflicts,
  workspaceFileQuery,
  workspaceSideText,
  WORKSPACE_FILE_SCHEME,
  type ConflictSet,
  type ConflictUi,
} from './conflictModel';

export function registerWorkspaceFiles(client: CoordinatorClient): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(WORKSPACE_FILE_SCHEME, {
    async provideTextDocumentContent(uri) {
      const q = parseWorkspaceFileQuery(uri.query);
      if (!q) return '(not a workspace file)\n';
      if (q.deletedHere) return `(${q.path} is deleted here)\n`;
      return workspaceSideText(
        q.path,
        await client.request(ReadWorkspaceFileRequest, { name: q.name, node: q.node, path: q.path }),
      );
    },
  });
}

function sideUri(set: ConflictSet, path: string, deletedHere = false): vscode.Uri {
  return vscode.Uri.from({
    scheme: WORKSPACE_FILE_SCHEME,
    path: `/${path}`,
    query: workspaceFileQuery(set, path, deletedHere),
  });
}

const ui: ConflictUi = {
  pick: async (items, title) =>
    vscode.window.showQuickPick(items, {
      title,
      placeHolder: 'A file changed both here and in the workspace',
      matchOnDescription: true,
    }),
  async diff(set, c: SyncConflict) {
    const left = c.local === 'deleted' ? sideUri(set, c.path, true) : vscode.Uri.file(join(set.root, c.path));
    await vscode.commands.executeCommand(
      'vscode.diff',
      left,
      sideUri(set, c.path),
      `${c.path} (this folder ↔ ${set.name})`,
      { preview: true },
    );
  },
  choose: async (message, options) => vscode.window.showInformationMessage(message, ...options),
  info: (message) => void vscode.window.showInformationMessage(message),
};

/** Walks the person through the conflicts of one `up`; returns those still open. */
export async function showConflicts(ctx: CommandContext, set: ConflictSet): Promise<SyncConflict[]> {
  const left = await walkConflicts(set, ui, (s, c, take) =>
    ctx.client.request(ResolveConflictRequest, { name: s.name, node: s.node, path: c.path, take }),
  );
  ctx.log.info(`Sync conflicts in ${set.name}: ${set.conflicts.length - left.length} settled, ${left.length} left`);
  return left;
}

/** The one notification after an `up` that left conflicts; `extra` buttons come after Show Conflicts. */
export async function notifyConflicts(
  ctx: CommandContext,
  set: ConflictSet,
  extra: string[] = [],
): Promise<string | undefined> {
  ctx.log.warn(`${conflictNotice(set)} ${set.conflicts.map((c) => c.path).join(', ')}`);
  const choice = await vscode.window.showWarningMessage(conflictNotice(set), SHOW_CONFLICTS, ...extra);
  if (choice === SHOW_CONFLICTS) await showConflicts(ctx, set);
  return choice;
}
