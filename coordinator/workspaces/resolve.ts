/** Finding the one record a workspace name (and maybe a node) points at; ambiguous or unknown names are errors. */
import { VendettaError } from '../errors';
import type { WorkspaceRef } from '../protocol';
import type { WorkspaceRecord, WorkspaceStore } from './store';

export function resolveWorkspace(store: WorkspaceStore, ref: WorkspaceRef): WorkspaceRecord {
  const matches = store.named(ref.name).filter((r) => ref.node === undefined || r.node === ref.node);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new VendettaError(
      'WORKSPACE_AMBIGUOUS',
      `There is a workspace named ${ref.name} on ${matches.length} nodes (${matches.map((m) => m.node).join(', ')})`,
      {
        hint: `Say which one with --node, e.g. --node ${matches[0]!.node}.`,
      },
    );
  }
  throw new VendettaError(
    'WORKSPACE_NOT_FOUND',
    `There is no workspace named ${ref.name}${ref.node ? ` on ${ref.node}` : ''}`,
    {
      hint: 'See the workspaces with `vendetta workspace list`; make one with `vendetta workspace up PATH`.',
      ...(ref.node ? { node: ref.node } : {}),
    },
  );
}
