/**
 * Validates `.vendetta/config.yaml` text: size and encoding, YAML syntax, the JSON Schema, then
 * the semantic checks. Pure (no file system), so the language server can run it on unsaved text.
 */
import { type Diagnostic, diagnosticAt, hasErrors, sortDiagnostics } from './diagnostics';
import { closestMatch } from './didYouMean';
import { type Locator, type PatternMessage, schemaDiagnostics } from './schemaErrors';
import { semanticDiagnostics } from './semantic';
import { checkConfigText } from './textGuards';
import type { WorkspaceConfig } from './types';
import { workspaceSchema, workspaceValidator } from './validators';
import { parseYaml } from './yamlSource';

/** More than this and the rest are noise: the first problems are what a person fixes first. */
const MAX_DIAGNOSTICS = 200;

const NAME_HINT =
  'use lowercase letters, digits and `-`, starting with a letter or digit, at most 63 characters (e.g. my-app)';
const show = (v: unknown) => JSON.stringify(v);

export const WORKSPACE_PATTERN_MESSAGES: Record<string, PatternMessage> = {
  name: (label, v) => ({
    code: 'bad-name',
    message: `\`${label}\` is not a valid workspace name: ${show(v)}`,
    hint: NAME_HINT,
  }),
  nodeName: (label, v) => ({
    code: 'bad-name',
    message: `\`${label}\` is not a valid node name: ${show(v)}`,
    hint: NAME_HINT,
  }),
  serviceName: (label, v) => ({
    code: 'bad-name',
    message: `${show(v)} is not a valid service name (in \`${label}\`)`,
    hint: NAME_HINT,
  }),
  envName: (label, v) => ({
    code: 'bad-name',
    message: `${show(v)} is not a valid environment variable name (in \`${label}\`)`,
    hint: 'use letters, digits and `_`, not starting with a digit (e.g. NODE_ENV)',
  }),
  forwardPort: (label, v) => ({
    code: 'schema',
    message: `\`${label}\` must be a port number or "service:port", not ${show(v)}`,
    hint: 'write 8080, or "web:8080" for port 8080 of the service web',
  }),
  duration: (label, v) => ({
    code: 'bad-duration',
    message: `\`${label}\` is not a duration: ${show(v)}`,
    hint: 'write a whole number followed by ms, s, m or h, e.g. 500ms, 2s, 1m',
  }),
  size: (label, v) => ({
    code: 'schema',
    message: `\`${label}\` is not a size: ${show(v)}`,
    hint: 'write bytes, or a number followed by k, m, g or t, e.g. 512m or 2g',
  }),
  user: (label, v) => ({
    code: 'schema',
    message: `\`${label}\` is not a valid user name: ${show(v)}`,
    hint: 'a Unix user name: lowercase letters, digits, `_` and `-`, starting with a letter or `_`',
  }),
  image: (label, v) => ({
    code: 'schema',
    message: `\`${label}\` is not a valid image name: ${show(v)}`,
    hint: 'an image reference such as vendetta/debian:bookworm (no spaces, starting with a letter or digit); for qemu, an absolute path on the node or an http(s) URL',
  }),
  http: (label, v) => ({
    code: 'schema',
    message: `\`${label}\` is not an http(s) URL: ${show(v)}`,
    hint: 'e.g. http://localhost:3000/health',
  }),
  workspaceFolder: (label, v) => ({
    code: 'schema',
    message: `\`${label}\` must be an absolute path: ${show(v)}`,
    hint: 'e.g. /workspaces/my-app',
  }),
};

export interface WorkspaceValidation {
  /** Present when there is no error (warnings allowed). */
  config?: WorkspaceConfig;
  diagnostics: Diagnostic[];
}

export function validateWorkspaceConfigText(text: string, file: string): WorkspaceValidation {
  try {
    return validate(text, file);
  } catch (err) {
    // A validator bug must still come out as a diagnostic, never as an exception in the caller.
    const message = `could not validate the file: ${err instanceof Error ? err.message : String(err)}`;
    return {
      diagnostics: [
        diagnosticAt(
          file,
          { start: { line: 1, col: 1 }, end: { line: 1, col: 1 } },
          { code: 'internal', message, hint: 'this is a bug in vendetta' },
        ),
      ],
    };
  }
}

function validate(text: string, file: string): WorkspaceValidation {
  const guard = checkConfigText(text, file);
  if (guard.length) return { diagnostics: guard };
  const parsed = parseYaml(
    text,
    file,
    'the file is empty; a config needs at least `name` (and usually `provider` and `services`)',
  );
  const diagnostics = parsed.diagnostics;
  if (hasErrors(diagnostics) || parsed.data === undefined) return { diagnostics: finish(diagnostics) };
  const data = parsed.data;
  diagnostics.push(...validateWorkspaceData(data, file, parsed.locate));
  const sorted = finish(diagnostics);
  return hasErrors(sorted) ? { diagnostics: sorted } : { config: data as WorkspaceConfig, diagnostics: sorted };
}

/** Schema and semantic checks on already-parsed data; `locate` maps a JSON path to its source. */
export function validateWorkspaceData(data: unknown, file: string, locate: Locator): Diagnostic[] {
  const out = checkData(data, file, locate);
  const renamed = misspeltBlocks(data);
  if (!renamed) return out;
  // A misspelt top-level key (`servces:`) would hide every mistake inside its block: check the
  // data again as if the key were spelt right, located at the text as written.
  const seen = new Set(out.map(sameSpot));
  const asWritten: Locator = (path, opts) =>
    locate(path.length && renamed.to.has(path[0]!) ? [renamed.to.get(path[0]!)!, ...path.slice(1)] : path, opts);
  for (const d of checkData(renamed.data, file, asWritten)) if (!seen.has(sameSpot(d))) out.push(d);
  return out;
}

function checkData(data: unknown, file: string, locate: Locator): Diagnostic[] {
  const validate = workspaceValidator();
  const out: Diagnostic[] = [];
  if (!validate(data)) {
    out.push(
      ...schemaDiagnostics(validate.errors ?? [], {
        file,
        data,
        locate,
        patterns: WORKSPACE_PATTERN_MESSAGES,
        unknownRootKeyIsError: true,
      }),
    );
  }
  out.push(...semanticDiagnostics(data, file, locate));
  return out;
}

const sameSpot = (d: Diagnostic) => `${d.line}:${d.col}:${d.message}`;

/** The data with each unknown top-level key renamed to the key it most likely means, if any. */
function misspeltBlocks(data: unknown): { data: Record<string, unknown>; to: Map<string, string> } | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const known = Object.keys(workspaceSchema.properties);
  const copy: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  const to = new Map<string, string>(); // right name -> name as written
  for (const key of Object.keys(copy)) {
    if (known.includes(key)) continue;
    const guess = closestMatch(key, known);
    if (guess === undefined || guess in copy || to.has(guess)) continue;
    copy[guess] = copy[key];
    delete copy[key];
    to.set(guess, key);
  }
  return to.size ? { data: copy, to } : undefined;
}

/** Sorted; when there are too many, errors are kept before warnings so none is hidden by them. */
function finish(diagnostics: Diagnostic[]): Diagnostic[] {
  if (diagnostics.length <= MAX_DIAGNOSTICS) return sortDiagnostics(diagnostics);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const rest = diagnostics.filter((d) => d.severity !== 'error');
  return sortDiagnostics([...errors, ...rest].slice(0, MAX_DIAGNOSTICS));
}
