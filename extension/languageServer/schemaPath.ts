/**
 * Walks the project's JSON Schemas (schemas/*.schema.json, the same ones the validator uses) by a
 * document path: what a key means, which keys a mapping may hold, which values a scalar may take.
 * A small walker rather than yaml-language-server: the schemas use only local `$ref`s,
 * `properties`, `additionalProperties`, `items` and `oneOf` of `required`, and the walker adds no
 * dependency to the bundle.
 */
import nodesSchema from '../../schemas/nodes.schema.json';
import workspaceSchema from '../../schemas/workspace.schema.json';

export interface SchemaNode {
  $ref?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  examples?: unknown[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  required?: string[];
  definitions?: Record<string, SchemaNode>;
  title?: string;
}

export type PathSegment = string | number;

/** Which schema a document follows, by its file name; undefined for files without one here. */
export function schemaForUri(uri: string): SchemaNode | undefined {
  const name = decodeURIComponent(uri).split(/[\\/]/).pop() ?? '';
  if (name === 'nodes.yaml') return nodesSchema as SchemaNode;
  if (/^config\.ya?ml$/.test(name) || uri.startsWith('untitled:')) return workspaceSchema as SchemaNode;
  return undefined;
}

/**
 * Follows `$ref`s (local `#/definitions/x` only); keywords beside a `$ref` win over the target's,
 * so a property's own description is kept and the definition's fills the gaps.
 */
export function resolve(root: SchemaNode, node: SchemaNode | undefined): SchemaNode | undefined {
  let out = node;
  for (let hops = 0; out?.$ref && hops < 16; hops++) {
    const m = /^#\/definitions\/([^/]+)$/.exec(out.$ref);
    const target = m ? root.definitions?.[m[1]!] : undefined;
    const { $ref: _ref, ...own } = out;
    out = target ? { ...target, ...own } : own;
  }
  return out;
}

/** The schema of the value at `path` from the document's root, or undefined where the schema has none. */
export function schemaAt(root: SchemaNode, path: readonly PathSegment[]): SchemaNode | undefined {
  let node = resolve(root, root);
  for (const seg of path) {
    if (!node) return undefined;
    if (typeof seg === 'number') node = resolve(root, node.items);
    else
      node = resolve(
        root,
        node.properties?.[seg] ??
          (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined),
      );
  }
  return node;
}

/** The fixed keys a mapping may hold (none for free-form maps such as `env` or `services`). */
export function propertiesOf(
  root: SchemaNode,
  node: SchemaNode | undefined,
): Array<{ key: string; schema: SchemaNode; required: boolean }> {
  const props = node?.properties ?? {};
  return Object.keys(props).map((key) => ({
    key,
    schema: resolve(root, props[key])!,
    required: node?.required?.includes(key) ?? false,
  }));
}

function typesOf(node: SchemaNode): string[] {
  return node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
}

/** Values worth offering for a scalar: its enum, else true/false for a boolean, else default and examples. */
export function valueCandidates(node: SchemaNode | undefined): unknown[] {
  if (!node) return [];
  if (node.enum) return node.enum;
  if (typesOf(node).includes('boolean')) return [true, false];
  const out: unknown[] = [];
  for (const v of [node.default, ...(node.examples ?? [])]) {
    if (v === undefined || (typeof v === 'object' && v !== null)) continue;
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** Markdown for a hover or a completion's documentation: description, type, default, allowed values. */
export function describe(node: SchemaNode, title?: string): string {
  const lines: string[] = [];
  if (title) lines.push(`**${title}**`, '');
  if (node.description) lines.push(node.description, '');
  const facts: string[] = [];
  const types = typesOf(node);
  if (types.length) facts.push(`Type: ${types.map((t) => `\`${t}\``).join(' or ')}`);
  if (node.enum) facts.push(`One of: ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`);
  if (node.default !== undefined && !(typeof node.default === 'object' && node.default !== null))
    facts.push(`Default: \`${String(node.default)}\``);
  const example = node.examples?.find((e) => typeof e !== 'object' || e === null);
  if (example !== undefined && !node.enum) facts.push(`Example: \`${String(example)}\``);
  lines.push(facts.join(' · '));
  return lines.join('\n').trim();
}
