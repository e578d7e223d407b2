/**
 * A problem found in a config file, located the way editors and compilers locate them:
 * 1-based line and column; the end is exclusive (the column just after the last character).
 */
export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
  severity: Severity;
  message: string;
  hint?: string;
  /**
   * A stable kind: 'yaml-syntax', 'json-syntax', 'schema', 'unknown-key', 'depends-on-unknown',
   * 'dependency-cycle', 'port-clash', 'bad-name', 'bad-duration', 'healthcheck-port', 'too-large',
   * 'not-text', 'empty', 'duplicate-name', 'reserved-name', 'not-found', 'no-config', 'unsupported'.
   */
  code: string;
  /** For did-you-mean: the text to put instead at this range. */
  fix?: { replacement: string };
}

export interface Position {
  line: number;
  col: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** Converts character offsets in a text to 1-based positions (binary search over line starts). */
export class OffsetMapper {
  private readonly lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: o - (this.lineStarts[lo] ?? 0) + 1 };
  }

  range(start: number, end: number): Range {
    const s = this.position(start);
    const e = this.position(Math.max(start, end));
    return { start: s, end: e };
  }
}

export interface DiagnosticInit {
  severity?: Severity;
  message: string;
  hint?: string;
  code: string;
  fix?: { replacement: string };
}

export function diagnosticAt(file: string, range: Range, init: DiagnosticInit): Diagnostic {
  const d: Diagnostic = {
    file,
    line: range.start.line,
    col: range.start.col,
    endLine: range.end.line,
    endCol: range.end.col,
    severity: init.severity ?? 'error',
    message: init.message,
    code: init.code,
  };
  if (init.hint !== undefined) d.hint = init.hint;
  if (init.fix !== undefined) d.fix = init.fix;
  return d;
}

/** A diagnostic for the file as a whole, shown at its first character. */
export function fileDiagnostic(file: string, init: DiagnosticInit): Diagnostic {
  return diagnosticAt(file, { start: { line: 1, col: 1 }, end: { line: 1, col: 1 } }, init);
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** In reading order: by line, then column, errors before warnings at the same spot. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  return diagnostics.sort((a, b) => a.line - b.line || a.col - b.col || rank[a.severity] - rank[b.severity]);
}
