/**
 * How `up`'s warnings reach the person in VS Code: each one in the log, and one notification
 * that names the first. Sync conflicts are left out of it: they have their own notice with the
 * conflict actions (sync/showConflicts.ts).
 */
import type { UpWarning } from '../../coordinator/protocol';

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
