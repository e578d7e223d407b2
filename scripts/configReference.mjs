#!/usr/bin/env node
/**
 * docs/config-reference.md from schemas/: every field of `.vendetta/config.yaml` and `nodes.yaml`
 * with its type, default, allowed values and examples, in schema order. The schemas are the one
 * source; `node scripts/configReference.mjs --write` rewrites the page, and a unit test fails when
 * the page and the schemas differ. Hand-written (≈100 lines) because the tools that render JSON
 * Schema to Markdown (jsonschema2md and kin) write one page per definition, not one field table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const REFERENCE_PAGE = join(ROOT, 'docs', 'config-reference.md');

function resolveRef(schema, node) {
  if (!node || typeof node.$ref !== 'string') return node;
  const target = node.$ref.replace(/^#\/definitions\//, '');
  const def = schema.definitions?.[target];
  if (!def) throw new Error(`unknown $ref ${node.$ref}`);
  // The field's own words (description, examples) win over the definition's.
  const { $ref: _ref, ...own } = node;
  return { ...resolveRef(schema, def), ...own };
}

function typeOf(schema, node) {
  if (node.enum) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' | ');
  if (node.oneOf || node.anyOf)
    return [...new Set((node.oneOf ?? node.anyOf).map((n) => typeOf(schema, resolveRef(schema, n))))].join(' or ');
  if (Array.isArray(node.type)) return node.type.join(' or ');
  if (node.type === 'array' && node.items) return `list of ${typeOf(schema, resolveRef(schema, node.items))}`;
  if (node.type === 'object' && node.additionalProperties && typeof node.additionalProperties === 'object')
    return 'map';
  return node.type ?? (node.properties ? 'object' : 'any');
}

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n+/g, ' ');
const code = (v) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

/** Rows for the fields of an object node, recursing into nested objects with a dotted name. */
function rows(schema, node, prefix, out) {
  const required = new Set(node.required ?? []);
  for (const [key, raw] of Object.entries(node.properties ?? {})) {
    const field = resolveRef(schema, raw);
    const name = `${prefix}${key}`;
    const facts = [];
    if (required.has(key)) facts.push('required');
    if (field.default !== undefined) facts.push(`default ${code(field.default)}`);
    if (field.pattern) facts.push(`pattern ${code(field.pattern)}`);
    if (field.minimum !== undefined || field.maximum !== undefined)
      facts.push(`range ${field.minimum ?? '…'}–${field.maximum ?? '…'}`);
    const examples = (field.examples ?? []).map(code).join(', ');
    out.push(
      `| \`${name}\` | ${cell(typeOf(schema, field))} | ${cell(field.description ?? '')}${facts.length ? ` (${facts.join('; ')})` : ''} | ${cell(examples)} |`,
    );
    if (field.type === 'object' && field.properties) rows(schema, field, `${name}.`, out);
    const item = field.type === 'array' && field.items ? resolveRef(schema, field.items) : undefined;
    if (item?.type === 'object' && item.properties) rows(schema, item, `${name}[].`, out);
    const value =
      field.type === 'object' && typeof field.additionalProperties === 'object'
        ? resolveRef(schema, field.additionalProperties)
        : undefined;
    if (value?.type === 'object' && value.properties) rows(schema, value, `${name}.<name>.`, out);
  }
  return out;
}

function section(schema, title, file) {
  const head = '| field | type | what it does | examples |\n| --- | --- | --- | --- |';
  return `## ${title}\n\n${schema.description ?? ''}\n\nFile: \`${file}\`, schema \`${schema.$id}\`.\n\n${head}\n${rows(schema, schema, '', []).join('\n')}\n`;
}

export function renderReference() {
  const ws = JSON.parse(readFileSync(join(ROOT, 'schemas', 'workspace.schema.json'), 'utf8'));
  const nodes = JSON.parse(readFileSync(join(ROOT, 'schemas', 'nodes.schema.json'), 'utf8'));
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from schemas/ by `node scripts/configReference.mjs --write`; do not edit by hand. -->',
    '',
    'Every field Vendetta reads, with its default and examples. VS Code checks both files as you type',
    '(completion, hover, quick fixes); `vendetta config validate` checks them from the command line.',
    '',
    section(ws, 'Workspace config', '.vendetta/config.yaml'),
    section(nodes, 'Node registry', '$VENDETTA_HOME/nodes.yaml'),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) writeFileSync(REFERENCE_PAGE, renderReference());
  else process.stdout.write(renderReference());
}
