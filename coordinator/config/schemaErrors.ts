/**
 * ajv's errors, turned into diagnostics a person can act on: located at the YAML/JSON text the
 * error is about, worded in plain language, with "did you mean" for misspelt keys and values.
 * Unknown keys are warnings (the key is ignored), everything else an error; a caller may make an
 * unknown top-level key an error, as a misspelt top-level key hides a whole block.
 */
import type { ErrorObject } from 'ajv';
import { type Diagnostic, type DiagnosticInit, type Range, diagnosticAt } from './diagnostics';
import { closestMatch } from './didYouMean';

export type Locator = (path: readonly string[], opts?: { key?: boolean }) => Range;

/** Wording for a string that breaks a pattern, by definition or property name in the schema. */
export type PatternMessage = (label: string, value: unknown) => Omit<DiagnosticInit, 'severity'>;

export interface SchemaErrorContext {
  file: string;
  data: unknown;
  locate: Locator;
  patterns: Record<string, PatternMessage>;
  /** Report unknown top-level keys as errors (default: warnings, like every unknown key). */
  unknownRootKeyIsError?: boolean;
}

interface SchemaLike {
  properties?: Record<string, { description?: string }>;
  oneOf?: { required?: string[] }[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  description?: string;
}

export function pathSegments(instancePath: string): string[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `services.api.port`, `nodes[0].host`; the root is "the file". */
export function pathLabel(segs: readonly string[]): string {
  let out = '';
  for (const s of segs) out += /^\d+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

export function valueAt(data: unknown, segs: readonly string[]): unknown {
  let cur = data;
  for (const s of segs) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

export function showValue(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping (`key: value` lines)',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  fraction: 'a fraction',
  boolean: 'true or false',
  null: 'empty',
};

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'fraction';
  return typeof v;
}

function typeName(t: string): string {
  return TYPE_NAMES[t] ?? t;
}

/** "a, b or c" */
function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function patternKey(schemaPath: string): string | undefined {
  const def = /#\/definitions\/([^/]+)\/pattern$/.exec(schemaPath);
  if (def) return def[1];
  const prop = /\/properties\/([^/]+)\/pattern$/.exec(schemaPath);
  return prop?.[1];
}

export function schemaDiagnostics(errors: readonly ErrorObject[], ctx: SchemaErrorContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  // Branch errors of a oneOf are summarised by the oneOf error itself.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.schemaPath + '/');
  // A value of the wrong type also fails its pattern/range; the type is the one to report. With
  // an enum, listing the allowed values says more than the type does.
  const hasEnum = new Set(errors.filter((e) => e.keyword === 'enum').map((e) => e.instancePath));
  const wrongType = new Set(
    errors.filter((e) => e.keyword === 'type' && !hasEnum.has(e.instancePath)).map((e) => e.instancePath),
  );
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    if (e.keyword === 'type' && hasEnum.has(e.instancePath)) continue;
    if (
      e.keyword !== 'type' &&
      e.keyword !== 'required' &&
      e.keyword !== 'additionalProperties' &&
      wrongType.has(e.instancePath)
    )
      continue;
    if (oneOfPaths.some((p) => e.schemaPath.startsWith(p))) continue;
    if (e.propertyName !== undefined && e.keyword !== 'propertyNames') continue; // reported with propertyNames
    const d = describe(e, errors, ctx);
    if (!d) continue;
    const key = `${d.line}:${d.col}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function describe(e: ErrorObject, all: readonly ErrorObject[], ctx: SchemaErrorContext): Diagnostic | undefined {
  const segs = pathSegments(e.instancePath);
  const label = pathLabel(segs);
  const subject = label === '' ? 'the file' : `\`${label}\``;
  const value = valueAt(ctx.data, segs);
  const parent = (e.parentSchema ?? {}) as SchemaLike;
  const at = (path: readonly string[], init: DiagnosticInit, key = false) =>
    diagnosticAt(ctx.file, ctx.locate(path, { key }), init);
  const p = e.params as Record<string, unknown>;

  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String(p.additionalProperty);
      const known = Object.keys(parent.properties ?? {});
      const guess = closestMatch(name, known);
      const where = label === '' ? '' : ` in ${subject}`;
      const fatal = label === '' && ctx.unknownRootKeyIsError === true;
      return at(
        [...segs, name],
        {
          code: 'unknown-key',
          severity: fatal ? 'error' : 'warning',
          message: `unknown key \`${name}\`${where}${guess ? `; did you mean \`${guess}\`?` : ''}`,
          hint: fatal
            ? `the whole block would be ignored${guess ? `; the problems inside it are reported as if it were \`${guess}\`` : ''}; the top-level keys are: ${known.join(', ')}`
            : `it is ignored; the keys allowed here are: ${known.join(', ')}`,
          ...(guess ? { fix: { replacement: guess } } : {}),
        },
        true,
      );
    }
    case 'required': {
      const missing = String(p.missingProperty);
      const about = parent.properties?.[missing]?.description;
      return at(segs, {
        code: 'schema',
        message:
          label === ''
            ? `the file has no \`${missing}\`, which is required`
            : `${subject} has no \`${missing}\`, which is required`,
        hint: about ? `add \`${missing}:\` — ${about}` : `add \`${missing}:\``,
      });
    }
    case 'type': {
      // A number where a duration or name belongs reads better as "not a duration" than as a type error.
      const def = /#\/definitions\/([^/]+)\/type$/.exec(e.schemaPath)?.[1];
      const custom = def && p.type === 'string' ? ctx.patterns[def] : undefined;
      if (custom && value !== null && typeof value !== 'object') return at(segs, custom(label, value));
      const want = orList(String(p.type).split(',').map(typeName));
      return at(segs, {
        code: 'schema',
        message: `${subject} must be ${want}, not ${typeName(jsonType(value))}${value === null || value === undefined ? '' : ` (${showValue(value)})`}`,
        hint: parent.description,
      });
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const guess = typeof value === 'string' ? closestMatch(value, allowed) : undefined;
      return at(segs, {
        code: 'schema',
        message: `${subject} must be one of ${allowed.join(', ')}, not ${showValue(value)}${guess ? `; did you mean \`${guess}\`?` : ''}`,
        hint: parent.description,
        ...(guess ? { fix: { replacement: guess } } : {}),
      });
    }
    case 'const':
      return at(segs, { code: 'schema', message: `${subject} must be ${showValue(p.allowedValue)}` });
    case 'pattern': {
      const key = patternKey(e.schemaPath);
      const custom = key ? ctx.patterns[key] : undefined;
      if (custom) return at(segs, custom(label, value));
      return at(segs, {
        code: 'schema',
        message: `${subject} has an invalid value ${showValue(value)}`,
        hint: parent.description,
      });
    }
    case 'propertyNames': {
      const name = String(p.propertyName);
      const inner = all.find(
        (x) => x.propertyName === name && x.instancePath === e.instancePath && x.keyword !== 'propertyNames',
      );
      const key = inner ? patternKey(inner.schemaPath) : undefined;
      const custom = key ? ctx.patterns[key] : undefined;
      const keyLabel = pathLabel([...segs, name]);
      const init = custom
        ? custom(keyLabel, name)
        : { code: 'schema', message: `\`${name}\` is not allowed as a key in ${subject}` };
      return at([...segs, name], init, true);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum': {
      const lo = parent.minimum;
      const hi = parent.maximum;
      const parts: string[] = [];
      if (parent.exclusiveMinimum !== undefined) parts.push(`more than ${parent.exclusiveMinimum}`);
      else if (lo !== undefined && hi === undefined) parts.push(`at least ${lo}`);
      if (hi !== undefined)
        parts.push(
          lo !== undefined && parent.exclusiveMinimum === undefined ? `between ${lo} and ${hi}` : `at most ${hi}`,
        );
      const range = parts.join(' and ');
      return at(segs, {
        code: 'schema',
        message: `${subject} must be ${range}, not ${showValue(value)}`,
        hint: parent.description,
      });
    }
    case 'minLength':
      return at(
        segs,
        p.limit === 1
          ? { code: 'schema', message: `${subject} must not be empty`, hint: parent.description }
          : { code: 'schema', message: `${subject} must be at least ${String(p.limit)} characters long` },
      );
    case 'maxLength':
      return at(segs, { code: 'schema', message: `${subject} is too long: at most ${String(p.limit)} characters` });
    case 'minItems':
      return at(segs, {
        code: 'schema',
        message: `${subject} must list at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`,
        hint: parent.description,
      });
    case 'maxItems':
      return at(segs, { code: 'schema', message: `${subject} may list at most ${String(p.limit)} items` });
    case 'minProperties':
      return at(segs, { code: 'schema', message: `${subject} must not be empty`, hint: parent.description });
    case 'uniqueItems': {
      const items = Array.isArray(value) ? value : [];
      const j = Number(p.j);
      return at([...segs, String(Number(p.i))], {
        code: 'schema',
        message: `${subject} lists ${showValue(items[j])} twice`,
        hint: 'remove the repeated item',
      });
    }
    case 'oneOf': {
      const branches = (parent.oneOf ?? []).map((b) => b.required ?? []);
      if (branches.length && branches.every((r) => r.length === 1)) {
        const options = branches.map((r) => r[0] ?? '');
        const present = value && typeof value === 'object' ? options.filter((o) => o in (value as object)) : [];
        const list = options.map((o) => `\`${o}\``).join(', ');
        const message =
          present.length > 1
            ? `${subject} sets ${present.map((o) => `\`${o}\``).join(' and ')}; use exactly one of ${list}`
            : `${subject} needs one of ${list}`;
        return at(segs, { code: 'schema', message, hint: parent.description });
      }
      return at(segs, {
        code: 'schema',
        message: `${subject} does not match any allowed form`,
        hint: parent.description,
      });
    }
    default:
      return at(segs, { code: 'schema', message: `${subject} ${e.message ?? 'is invalid'}`, hint: parent.description });
  }
}
