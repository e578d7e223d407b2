/** Completion and hover for the config files, from the schemas' descriptions. */
import {
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type CompletionItem,
  type Hover,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  describe,
  propertiesOf,
  resolve,
  schemaAt,
  schemaForUri,
  valueCandidates,
  type SchemaNode,
} from './schemaPath';
import { completionContext, nodeAtOffset } from './yamlCursor';

function isObjectSchema(node: SchemaNode): boolean {
  return node.type === 'object' || !!node.properties;
}

function yamlScalar(v: unknown): string {
  if (typeof v !== 'string') return String(v);
  // Words YAML would read as something else (no, true, 2s is fine) keep their quotes.
  return /^(y|n|yes|no|on|off|true|false|null|~)$/i.test(v) || !/^[A-Za-z0-9_./:@-]+$/.test(v) ? JSON.stringify(v) : v;
}

export function completions(doc: TextDocument, position: { line: number; character: number }): CompletionItem[] {
  const root = schemaForUri(doc.uri);
  if (!root) return [];
  const text = doc.getText();
  const ctx = completionContext(text, doc.offsetAt(position));
  if (!ctx) return [];
  const range = { start: doc.positionAt(ctx.wordStart), end: doc.positionAt(ctx.wordEnd) };
  if (ctx.kind === 'key') {
    const items: CompletionItem[] = [];
    for (const { key, schema, required } of propertiesOf(root, schemaAt(root, ctx.path))) {
      if (ctx.siblings.includes(key)) continue;
      const object = isObjectSchema(schema);
      // A nested mapping continues on the next line, two spaces deeper than the key.
      const indent = ' '.repeat(range.start.character + 2);
      items.push({
        label: key,
        kind: CompletionItemKind.Property,
        detail: required ? 'required' : undefined,
        documentation: { kind: MarkupKind.Markdown, value: describe(schema) },
        textEdit: { range, newText: object ? `${key}:\n${indent}$0` : `${key}: $0` },
        insertTextFormat: InsertTextFormat.Snippet,
        sortText: `${required ? 0 : 1}${key}`,
      });
    }
    return items;
  }
  const schema = schemaAt(root, ctx.path);
  const last = ctx.path[ctx.path.length - 2];
  // depends_on: [..] names other services of this document.
  const values =
    last === 'depends_on'
      ? ctx.serviceNames.filter((n) => n !== ctx.path[ctx.path.length - 3])
      : valueCandidates(schema);
  return values.map((v) => ({
    label: String(v),
    kind: CompletionItemKind.Value,
    documentation: schema ? { kind: MarkupKind.Markdown, value: describe(schema) } : undefined,
    textEdit: { range, newText: yamlScalar(v) },
  }));
}

export function hover(doc: TextDocument, position: { line: number; character: number }): Hover | null {
  const root = schemaForUri(doc.uri);
  if (!root) return null;
  const at = nodeAtOffset(doc.getText(), doc.offsetAt(position));
  if (!at || at.path.length === 0) return null;
  const schema = resolve(root, schemaAt(root, at.path));
  if (!schema) return null;
  const last = at.path[at.path.length - 1];
  const title = at.onKey
    ? String(last)
    : typeof last === 'number'
      ? `${String(at.path[at.path.length - 2])}[${last}]`
      : String(last);
  return {
    contents: { kind: MarkupKind.Markdown, value: describe(schema, title) },
    range: { start: doc.positionAt(at.start), end: doc.positionAt(at.end) },
  };
}
