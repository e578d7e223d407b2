/**
 * How `up`'s warnings reach the person in VS Code: each one in the log, and one notification
 * that names the first. Sync conflicts are left out of it: they have their own notice with the
 * conflict actions (sync/showConflicts.ts). Reopen in Remote Workspace reloads the window, which
 * drops a notification: the notice waits in the global state for the remote window to show it.
 */
import type { UpWarning } from '../../coordinator/protocol';
import type { StateStore } from '../remote/remoteExtensions';

export const PENDING_UP_NOTICE_KEY = 'vendetta.pendingUpNotice';

/** The log lines, one per warning, located when the config said it. */
export function upWarningLines(warnings: readonly UpWarning[]): string[] {
  return warnings.map(
    (w) =>
      `${w.file ? `${w.file}:${w.line ?? 1}:${w.col ?? 1}: ` : ''}warning: ${w.message}${w.hint ? ` (hint: ${w.hint})` : ''}`,
  );
}

/** The notification's text, or undefined when there is nothing to notify. */
export function upWarningNotice(workspace: string, warnings: readonly UpWarning[]): string | undefined {
  const shown = warnings.filter((w) => w.code !== 'SYNC_CONFLICTS');
  const first = shown[0];
  if (!first) return undefined;
  const more =
    shown.length > 1 ? ` (and ${shown.length - 1} more warning${shown.length > 2 ? 's' : ''} in the log)` : '';
  return `${workspace}: ${first.message}${more}`;
}

/** Kept for the window that opens `alias` (none: forgets an older one). */
export async function rememberUpNotice(state: StateStore, alias: string, notice: string | undefined): Promise<void> {
  const pending = { ...(state.get<Record<string, string>>(PENDING_UP_NOTICE_KEY) ?? {}) };
  if (notice) pending[alias] = notice;
  else delete pending[alias];
  await state.update(PENDING_UP_NOTICE_KEY, pending);
}

/** In the window of `alias`: the notice Reopen left for it, once. */
export async function takeUpNotice(state: StateStore, alias: string): Promise<string | undefined> {
  const notice = state.get<Record<string, string>>(PENDING_UP_NOTICE_KEY)?.[alias];
  if (notice !== undefined) await rememberUpNotice(state, alias, undefined);
  return notice;
}
