/** Converts the shared validator's diagnostics (1-based, end exclusive) to LSP's (0-based). */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from 'vscode-languageserver/node';
import type { Diagnostic } from '../../coordinator/config';

const severities: Record<Diagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
};

export const DIAGNOSTIC_SOURCE = 'vendetta';

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  return {
    range: {
      start: { line: Math.max(0, d.line - 1), character: Math.max(0, d.col - 1) },
      end: { line: Math.max(0, d.endLine - 1), character: Math.max(0, d.endCol - 1) },
    },
    severity: severities[d.severity],
    source: DIAGNOSTIC_SOURCE,
    code: d.code,
    message: d.hint ? `${d.message}\n${d.hint}` : d.message,
    data: d.fix ? { replacement: d.fix.replacement } : undefined,
  };
}
