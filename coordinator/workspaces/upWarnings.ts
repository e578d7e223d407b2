/**
 * The warnings of `workspaces/up`: what went wrong without failing it, gathered into the result
 * (`up --json`, the MCP tool, VS Code) besides being said as progress while it happened.
 */
import { PROGRESS_WARNING_PREFIX, type CreateWarning } from '../../agent/protocol';
import type { Diagnostic } from '../config';
import type { VendettaError } from '../errors';
import type { SyncReport, UpWarning } from '../protocol';

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The config's warnings (an entry ignored, a property not supported), located as `config validate` locates them. */
export function configWarnings(diagnostics: readonly Diagnostic[]): UpWarning[] {
  return diagnostics
    .filter((d) => d.severity === 'warning')
    .map((d) => ({
      code: 'CONFIG_WARNING',
      message: d.message,
      ...(d.hint ? { hint: d.hint } : {}),
      file: d.file,
      line: d.line,
      col: d.col,
    }));
}

/** The agent's (dotfiles not installed), as it said them. */
export function agentWarnings(warnings: readonly CreateWarning[] | undefined): UpWarning[] {
  return (warnings ?? []).map((w) => ({ code: w.code, message: w.message }));
}

/** A progress line of the agent's that is a warning (PROGRESS_WARNING_PREFIX), if it is one. */
export function progressWarning(message: string): UpWarning | undefined {
  if (!message.startsWith(PROGRESS_WARNING_PREFIX)) return undefined;
  const text = message.slice(PROGRESS_WARNING_PREFIX.length);
  return { code: 'NODE_WARNING', message: text.charAt(0).toUpperCase() + text.slice(1) };
}

export function portNotForwarded(port: number, e: VendettaError): UpWarning {
  return {
    code: 'PORT_NOT_FORWARDED',
    message: `Port ${port} is not forwarded: ${e.message}`,
    ...(e.hint ? { hint: e.hint } : {}),
  };
}

/** A sync that left conflicts still succeeded: the workspace's version of those files was kept. */
export function syncConflictWarning(s: SyncReport | null): UpWarning[] {
  if (!s?.conflictCount) return [];
  return [
    {
      code: 'SYNC_CONFLICTS',
      message: `${plural(s.conflictCount, 'file')} changed both here and in the workspace since the last sync; the workspace's version was kept (\`up --overwrite\` sends yours)`,
    },
  ];
}
