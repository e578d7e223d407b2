/**
 * The node registry file, `$VENDETTA_HOME/nodes.yaml`: validated text in, typed entries out, and
 * entries back to text. Pure functions: the registry does the file I/O.
 */
import { Document } from 'yaml';
import { type Diagnostic, diagnosticAt, hasErrors, sortDiagnostics } from './diagnostics';
import { type PatternMessage, schemaDiagnostics } from './schemaErrors';
import { checkConfigText } from './textGuards';
import { nodesValidator } from './validators';
import { parseYaml } from './yamlSource';

export interface NodeEntry {
  name: string;
  host: string;
  /** SSH port; absent means 22. */
  port?: number;
  user?: string;
  identity?: string;
  /** Pinned host key fingerprint, "SHA256:...". */
  hostKey?: string;
  /** Absent means 'ssh'. */
  transport?: 'ssh' | 'local';
  /** How the agent's Node.js came to the node when it had none (absent: the node's own). */
  runtime?: 'upload' | 'package';
  /** Default idle timeout of this node's workspaces (a duration); off when absent. */
  idleTimeout?: string;
  labels?: Record<string, string>;
}

export interface NodesFile {
  nodes: NodeEntry[];
}

/** Defaults for what an entry leaves out. */
export const NODE_DEFAULTS = { port: 22, transport: 'ssh' } as const;

/** The built-in node that runs the agent on this machine; no entry may take its name. */
export const LOCAL_NODE_NAME = 'local';

export const NODE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const NODE_PATTERN_MESSAGES: Record<string, PatternMessage> = {
  nodeName: (label, value) => ({
    code: 'bad-name',
    message: `\`${label}\` is not a valid node name: ${JSON.stringify(value)}`,
    hint: 'use lowercase letters, digits and `-`, starting with a letter or digit, at most 63 characters (e.g. build-1)',
  }),
  host: (label, value) => ({
    code: 'bad-host',
    message: `\`${label}\` is not a valid host name or address: ${JSON.stringify(value)}`,
    hint: 'give a host name or IP address, without spaces, shell characters or a leading `-`',
  }),
  user: (label, value) => ({
    code: 'schema',
    message: `\`${label}\` is not a valid user name: ${JSON.stringify(value)}`,
    hint: 'a Unix user name: lowercase letters, digits, `_` and `-`, starting with a letter or `_`',
  }),
  hostKey: (label, value) => ({
    code: 'schema',
    message: `\`${label}\` is not a SHA256 host key fingerprint: ${JSON.stringify(value)}`,
    hint: 'copy it as `ssh-keygen -lf <key>.pub` prints it, e.g. SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
  }),
  identity: (label) => ({
    code: 'schema',
    message: `\`${label}\` contains control characters`,
    hint: 'give the path of a private key file',
  }),
};

export function validateNodesText(text: string, file: string): { nodes?: NodesFile; diagnostics: Diagnostic[] } {
  try {
    return validateNodes(text, file);
  } catch (err) {
    // A validator bug must still come out as a diagnostic, never as an exception in the caller.
    return {
      diagnostics: [
        diagnosticAt(
          file,
          { start: { line: 1, col: 1 }, end: { line: 1, col: 1 } },
          {
            code: 'internal',
            message: `could not validate the file: ${err instanceof Error ? err.message : String(err)}`,
            hint: 'this is a bug in vendetta',
          },
        ),
      ],
    };
  }
}

function validateNodes(text: string, file: string): { nodes?: NodesFile; diagnostics: Diagnostic[] } {
  const guard = checkConfigText(text, file);
  if (guard.length) return { diagnostics: guard };
  if (text.trim() === '') return { nodes: { nodes: [] }, diagnostics: [] };
  const parsed = parseYaml(text, file, undefined);
  const diagnostics = parsed.diagnostics;
  if (hasErrors(diagnostics)) return { diagnostics: sortDiagnostics(diagnostics) };
  // A file with only comments, or `nodes:` with nothing under it, is an empty registry.
  let data = parsed.data ?? { nodes: [] };
  if (isRecord(data) && data.nodes === null) data = { ...data, nodes: [] };

  const validate = nodesValidator();
  if (!validate(data)) {
    diagnostics.push(
      ...schemaDiagnostics(validate.errors ?? [], {
        file,
        data,
        locate: parsed.locate,
        patterns: NODE_PATTERN_MESSAGES,
      }),
    );
  }
  if (isRecord(data) && Array.isArray(data.nodes)) {
    const firstIndex = new Map<string, number>();
    data.nodes.forEach((n: unknown, i) => {
      if (!isRecord(n) || typeof n.name !== 'string') return;
      const at = parsed.locate(['nodes', String(i), 'name']);
      if (n.name === LOCAL_NODE_NAME) {
        diagnostics.push(
          diagnosticAt(file, at, {
            code: 'reserved-name',
            message: '`local` is reserved for the built-in node on this machine',
            hint: 'give this node another name',
          }),
        );
      }
      const first = firstIndex.get(n.name);
      if (first !== undefined) {
        const firstLine = parsed.locate(['nodes', String(first), 'name']).start.line;
        diagnostics.push(
          diagnosticAt(file, at, {
            code: 'duplicate-name',
            message: `node \`${n.name}\` is listed twice (first on line ${firstLine})`,
            hint: 'node names must be unique; rename or remove one entry',
          }),
        );
      } else firstIndex.set(n.name, i);
    });
  }
  sortDiagnostics(diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics };
  return { nodes: data as NodesFile, diagnostics };
}

const KEY_ORDER: readonly (keyof NodeEntry)[] = [
  'name',
  'host',
  'port',
  'user',
  'identity',
  'hostKey',
  'transport',
  'runtime',
  'idleTimeout',
  'labels',
];

/** YAML text for the registry, keys in a fixed order, with a header saying what the file is. */
export function serializeNodesFile(nodes: NodesFile): string {
  const entries = nodes.nodes.map((n) => {
    const out: Record<string, unknown> = {};
    for (const k of KEY_ORDER) if (n[k] !== undefined) out[k] = k === 'labels' ? { ...n.labels } : n[k];
    return out;
  });
  const doc = new Document({ nodes: entries });
  doc.commentBefore =
    ' Vendetta node registry: `vendetta node add` writes this file; you may edit it.\n Schema: schemas/nodes.schema.json (port defaults to 22, transport to ssh).';
  return doc.toString({ lineWidth: 0 });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
