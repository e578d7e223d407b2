/**
 * Where in a YAML document's structure a text position falls: the key path of the key or value
 * under the cursor (for hover), and — for completion, while the text is half typed — whether the
 * cursor is at a key or at a value, found by putting a marker word at the cursor and parsing.
 */
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import type { PathSegment } from './schemaPath';

export interface NodeAtOffset {
  path: PathSegment[];
  /** The cursor is on a mapping key (the last path segment), not on a value. */
  onKey: boolean;
  /** Offsets of the key or scalar under the cursor. */
  start: number;
  end: number;
}

const within = (node: Node | null | undefined, offset: number): boolean =>
  !!node?.range && node.range[0] <= offset && offset <= node.range[1];

function find(node: unknown, path: PathSegment[], offset: number): NodeAtOffset | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const name = isScalar(key) ? String(key.value) : undefined;
      if (name === undefined) continue;
      if (within(key, offset))
        return { path: [...path, name], onKey: true, start: key!.range![0], end: key!.range![1] };
      if (within(pair.value as Node | null, offset)) return find(pair.value, [...path, name], offset);
    }
    return undefined;
  }
  if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const item = node.items[i] as Node | null;
      if (within(item, offset)) return find(item, [...path, i], offset);
    }
    return undefined;
  }
  if (isScalar(node) && node.range) return { path, onKey: false, start: node.range[0], end: node.range[1] };
  return undefined;
}

/** The key or scalar value at `offset`, with its path from the root. */
export function nodeAtOffset(text: string, offset: number): NodeAtOffset | undefined {
  const doc = parseDocument(text, { keepSourceTokens: false, logLevel: 'silent', uniqueKeys: false });
  return find(doc.contents, [], offset);
}

export interface CompletionContext {
  kind: 'key' | 'value';
  /** Key completion: the mapping's path. Value completion: the path of the value being typed. */
  path: PathSegment[];
  /** Keys the mapping already has (not offered again). */
  siblings: string[];
  /** The word being typed, as offsets into the original text (replaced by the chosen item). */
  wordStart: number;
  wordEnd: number;
  /** Service names defined in the document, for `depends_on`. */
  serviceNames: string[];
}

const MARKER = 'vendettaCompletionMarker';
const WORD = /[A-Za-z0-9_.-]/;

interface Found {
  kind: 'key' | 'value';
  path: PathSegment[];
  siblings: string[];
}

function findMarker(node: unknown, path: PathSegment[]): Found | undefined {
  if (isMap(node)) {
    const keys = node.items.map((p) => (isPair(p) && isScalar(p.key) ? String(p.key.value) : undefined));
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === MARKER)
        return { kind: 'key', path, siblings: keys.filter((k): k is string => k !== undefined && k !== MARKER) };
      if (key === undefined) continue;
      if (isScalar(pair.value) && pair.value.value === MARKER)
        return { kind: 'value', path: [...path, key], siblings: [] };
      const deeper = findMarker(pair.value, [...path, key]);
      if (deeper) return deeper;
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const item = node.items[i];
      if (isScalar(item) && item.value === MARKER) return { kind: 'value', path: [...path, i], siblings: [] };
      const deeper = findMarker(item, [...path, i]);
      if (deeper) return deeper;
    }
  }
  return undefined;
}

/** What may be completed at `offset`; undefined inside comments, strings with spaces and the like. */
export function completionContext(text: string, offset: number): CompletionContext | undefined {
  let wordStart = offset;
  while (wordStart > 0 && WORD.test(text[wordStart - 1]!)) wordStart--;
  let wordEnd = offset;
  while (wordEnd < text.length && WORD.test(text[wordEnd]!)) wordEnd++;
  const lineStart = text.lastIndexOf('\n', wordStart - 1) + 1;
  let lineEnd = text.indexOf('\n', wordEnd);
  if (lineEnd < 0) lineEnd = text.length;
  const before = text.slice(lineStart, wordStart);
  const after = text.slice(wordEnd, lineEnd);
  if (before.includes('#')) return undefined;
  // A word alone on its line (after indentation or `- `) is a key being typed: give it a colon.
  const blockKey = /^\s*(-\s+)*$/.test(before) && !/^\s*:/.test(after);
  const marked = text.slice(0, wordStart) + MARKER + (blockKey ? ':' : '') + text.slice(wordEnd);
  let doc = parseDocument(marked, { logLevel: 'silent', uniqueKeys: false });
  // Another half-typed key elsewhere (a word alone on its line) breaks the whole mapping: read it
  // as a key too, which is what it is going to be.
  if (doc.errors.length)
    doc = parseDocument(marked.replace(/^(\s*(?:-\s+)*[A-Za-z0-9_.-]+)[ \t]*$/gm, '$1:'), {
      logLevel: 'silent',
      uniqueKeys: false,
    });
  const found = findMarker(doc.contents, []);
  if (!found) return undefined;
  const services = doc.get('services');
  const serviceNames = isMap(services)
    ? services.items.map((p) => (isScalar(p.key) ? String(p.key.value) : '')).filter((n) => n && n !== MARKER)
    : [];
  return { ...found, wordStart, wordEnd, serviceNames };
}
