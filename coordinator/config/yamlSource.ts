/**
 * YAML text → a document that keeps source ranges, with every syntax problem as a located
 * diagnostic, and a way back from a JSON path (`/services/api/port`) to the text it came from.
 */
import { Document, LineCounter, isCollection, isMap, isNode, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Node, Scalar } from 'yaml';
import { type Diagnostic, OffsetMapper, type Range, diagnosticAt, fileDiagnostic } from './diagnostics';

export interface ParsedYaml {
  doc: Document.Parsed;
  /** The document as plain data; undefined when the syntax is broken or the file is empty. */
  data?: unknown;
  diagnostics: Diagnostic[];
  locate: (path: readonly string[], opts?: LocateOptions) => Range;
}

export interface LocateOptions {
  /** Point at the key of the last path segment (unknown keys, bad map keys) rather than its value. */
  key?: boolean;
}

/** Aliases expand when the document becomes data; a cap stops a "billion laughs" file. */
const MAX_ALIAS_EXPANSIONS = 1000;

/** `emptyMessage` undefined: an empty document is fine and yields no data. */
export function parseYaml(text: string, file: string, emptyMessage: string | undefined): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const mapper = new OffsetMapper(text);
  const at = (start: number, end: number) => mapper.range(start, end);
  const diagnostics: Diagnostic[] = [];

  for (const e of doc.errors) {
    // yaml often reports at the start of a line; the first non-blank character is what is wrong.
    let start = e.pos[0];
    while (text[start] === ' ' && start < text.length) start++;
    if (text[start] === '\n' || start >= text.length) start = e.pos[0];
    const end = Math.max(start + 1, e.pos[1]);
    diagnostics.push(
      diagnosticAt(file, at(start, end), {
        code: 'yaml-syntax',
        ...describeYamlError(doc, text, e.code, e.message, e.pos[0], at),
      }),
    );
  }
  for (const w of doc.warnings) {
    diagnostics.push(
      diagnosticAt(file, at(w.pos[0], w.pos[1]), {
        code: 'yaml-syntax',
        severity: 'warning',
        message: lowerFirst(w.message),
        hint: 'plain YAML without custom tags is all a config needs',
      }),
    );
  }
  if (diagnostics.length > 0) relocateUnclosedQuotes(doc, text, diagnostics, at);

  const locate = (path: readonly string[], opts: LocateOptions = {}) => locatePath(doc, path, opts, at);
  if (diagnostics.some((d) => d.severity === 'error')) return { doc, diagnostics, locate };

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    if (emptyMessage !== undefined)
      diagnostics.push(
        fileDiagnostic(file, {
          code: 'empty',
          message: emptyMessage,
          hint: 'see examples/hello/.vendetta/config.yaml for a small complete config',
        }),
      );
    return { doc, diagnostics, locate };
  }
  const complexKey = firstCollectionKey(doc);
  if (complexKey?.range) {
    diagnostics.push(
      diagnosticAt(file, at(complexKey.range[0], complexKey.range[1]), {
        code: 'yaml-syntax',
        message: 'a key must be a plain name, not a list or mapping',
        hint: 'check for a stray `?`, `[` or `{` before the `:`',
      }),
    );
    return { doc, diagnostics, locate };
  }
  try {
    const data: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
    return { doc, data, diagnostics, locate };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const aliasName = unresolvedAliasName(reason);
    const alias = firstAlias(doc, aliasName);
    const range = alias?.range ? at(alias.range[0], alias.range[1]) : at(0, 0);
    const message = /Excessive alias count/i.test(reason)
      ? 'aliases (`*name`) expand to too much data'
      : aliasName
        ? `the alias \`*${aliasName}\` has no anchor \`&${aliasName}\` before it`
        : `an alias cannot be resolved: ${lowerFirst(reason)}`;
    diagnostics.push(
      diagnosticAt(file, range, {
        code: 'yaml-syntax',
        message,
        hint: 'define each anchor (`&name`) before its alias and avoid nesting aliases',
      }),
    );
    return { doc, diagnostics, locate };
  }
}

function describeYamlError(
  doc: Document.Parsed,
  text: string,
  code: string,
  message: string,
  offset: number,
  at: (s: number, e: number) => Range,
): { message: string; hint: string } {
  // yaml's parser recurses per nesting level and reports running out of stack as an error.
  if (/call stack/i.test(message))
    return { message: 'the file is nested too deeply to read', hint: 'a config needs only a few levels of nesting' };
  switch (code) {
    case 'TAB_AS_INDENT':
      return { message: 'tabs are not allowed for indentation in YAML', hint: 'indent with spaces' };
    case 'DUPLICATE_KEY': {
      const key = scalarStartingAt(doc, offset);
      const name = key ? String(key.value) : (text.slice(offset).split(/[:\s]/)[0] ?? '');
      const first = key ? firstKeyNamed(doc, key, name) : undefined;
      const where = first?.range ? ` (first set on line ${at(first.range[0], first.range[0]).start.line})` : '';
      return {
        message: `duplicate key \`${name}\`${where}`,
        hint: 'each key may appear once in a mapping; remove or merge one of them',
      };
    }
    case 'MULTIPLE_DOCS':
      return {
        message: 'the file holds more than one YAML document (a `---` line)',
        hint: 'a config is a single YAML document; remove the `---` separator',
      };
    case 'BAD_INDENT':
      return { message: lowerFirst(message), hint: 'line up the keys of one mapping at the same column, using spaces' };
    case 'MISSING_CHAR':
      if (/quote/i.test(message)) return { message: 'a quoted string is never closed', hint: 'add the closing quote' };
      return { message: lowerFirst(message), hint: 'write `key: value`, with a space after the colon' };
    case 'BAD_DQ_ESCAPE':
      return {
        message: lowerFirst(message),
        hint: 'in double quotes a backslash starts an escape; write `\\\\` for a backslash, or use single quotes',
      };
    case 'BLOCK_AS_IMPLICIT_KEY':
      return {
        message: 'a value on one line cannot hold another `key: value`',
        hint: 'quote the value if it contains ": ", or put the nested mapping on its own indented lines',
      };
    default:
      return { message: lowerFirst(message), hint: 'check the YAML syntax around here' };
  }
}

/** yaml reports an unclosed quote where the file ends; the opening quote is more useful. */
function relocateUnclosedQuotes(
  doc: Document.Parsed,
  text: string,
  diagnostics: Diagnostic[],
  at: (s: number, e: number) => Range,
): void {
  const quoted: Scalar[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && node.range) quoted.push(node);
    },
  });
  for (const d of diagnostics) {
    if (d.message !== 'a quoted string is never closed') continue;
    const s = quoted.find((q) => q.range && q.range[1] >= text.length - 1);
    if (!s?.range) continue;
    const start = s.range[0];
    const lineEnd = text.indexOf('\n', start);
    const r = at(start, lineEnd < 0 ? text.length : lineEnd);
    Object.assign(d, { line: r.start.line, col: r.start.col, endLine: r.end.line, endCol: r.end.col });
    d.hint = `add the closing ${text[start] === '"' ? '"' : "'"} at the end of the string`;
  }
}

function scalarStartingAt(doc: Document.Parsed, offset: number): Scalar | undefined {
  let found: Scalar | undefined;
  visit(doc, {
    Scalar(_k, node) {
      if (node.range?.[0] === offset) {
        found = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function firstKeyNamed(doc: Document.Parsed, dupKey: Scalar, name: string): Scalar | undefined {
  let found: Scalar | undefined;
  visit(doc, {
    Map(_k, map) {
      if (!map.items.some((p) => p.key === dupKey)) return undefined;
      const first = map.items.find((p) => isScalar(p.key) && String(p.key.value) === name);
      found = first?.key as Scalar | undefined;
      return visit.BREAK;
    },
  });
  return found;
}

function unresolvedAliasName(reason: string): string | undefined {
  return /^Unresolved alias.*: (\S+)$/.exec(reason)?.[1];
}

function firstCollectionKey(doc: Document.Parsed): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Pair(_k, pair) {
      if (isCollection(pair.key)) {
        found = pair.key;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function firstAlias(doc: Document.Parsed, name?: string): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Alias(_k, node) {
      if (name !== undefined && node.source !== name) return undefined;
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

/**
 * The source range for a JSON path: the deepest node the path reaches. A collection is located
 * by its key in the parent (`api:` rather than the whole block under it).
 */
function locatePath(
  doc: Document.Parsed,
  path: readonly string[],
  opts: LocateOptions,
  at: (s: number, e: number) => Range,
): Range {
  let node: unknown = doc.contents;
  let keyNode: unknown;
  let reached = 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(seg)];
      if (item === undefined) break;
      keyNode = undefined;
      node = item;
    } else break;
    reached++;
  }
  if (opts.key && reached === path.length && isNode(keyNode)) return rangeOf(keyNode, at);
  if (isNode(node) && !isCollection(node) && node.range && node.range[1] > node.range[0]) return rangeOf(node, at);
  if (isNode(keyNode)) return rangeOf(keyNode, at);
  if (isMap(node) && node.items.length > 0 && isNode(node.items[0]?.key)) return rangeOf(node.items[0].key, at);
  if (isNode(node) && node.range) return at(node.range[0], node.range[0]);
  return at(0, 0);
}

function rangeOf(node: Node, at: (s: number, e: number) => Range): Range {
  const r = node.range;
  return r ? at(r[0], r[1]) : at(0, 0);
}

function lowerFirst(s: string): string {
  return s.length ? s[0]!.toLowerCase() + s.slice(1) : s;
}
