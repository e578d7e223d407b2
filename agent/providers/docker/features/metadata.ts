/**
 * A Dev Container Feature's `devcontainer-feature.json`, read at the boundary (it comes from a
 * registry or from the project: untrusted), and its options turned into the environment its
 * `install.sh` runs with (containers.dev/implementors/features: option ids become upper-case
 * variable names; a value not given takes the option's default). Pure.
 */
import { isObj } from '../../../../common/json/shape';
import { AgentError } from '../../../errors';
import { EXTENSION_ID, type HookCommand, type HookName, type VscodeAdditions } from '../../../protocol';

export type OptionValue = string | boolean;

export interface FeatureOption {
  type: 'string' | 'boolean';
  default?: OptionValue;
  /** The only values allowed (proposals are only suggestions). */
  enum?: string[];
}

export interface FeatureMount {
  type: 'volume' | 'tmpfs';
  source?: string;
  target: string;
}

export interface FeatureMetadata {
  id: string;
  version?: string;
  options: Record<string, FeatureOption>;
  /** Soft order: install after these when they are installed too (references without version). */
  installsAfter: string[];
  /** Hard dependencies: each is installed first, with these options, fetched when not listed. */
  dependsOn: Record<string, Record<string, OptionValue>>;
  containerEnv: Record<string, string>;
  mounts: FeatureMount[];
  privileged?: boolean;
  init?: boolean;
  capAdd: string[];
  securityOpt: string[];
  /** A command run when the container starts, before its main process. */
  entrypoint?: string;
  customizations?: Record<string, unknown>;
  /** Its lifecycle commands (`postCreateCommand`…), run before the project's own of the same kind. */
  hooks: Partial<Record<HookName, HookCommand>>;
  /** Its `customizations.vscode` extensions and settings. */
  vscode?: VscodeAdditions;
  /** Fields the feature sets that Vendetta does not apply (named in a progress line at install). */
  ignored: string[];
}

/** devcontainer-feature.json's lifecycle fields, by the hook each one is. */
const HOOK_FIELDS: ReadonlyArray<[string, HookName]> = [
  ['onCreateCommand', 'onCreate'],
  ['updateContentCommand', 'updateContent'],
  ['postCreateCommand', 'postCreate'],
  ['postStartCommand', 'postStart'],
  ['postAttachCommand', 'postAttach'],
];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalid(where: string, what: string): AgentError {
  return new AgentError('FEATURE_INVALID', `The feature ${where} has an invalid devcontainer-feature.json: ${what}`, {
    provider: 'docker',
    hint: "The feature's author must fix its devcontainer-feature.json (containers.dev/implementors/features); use another version meanwhile.",
  });
}

function strings(v: unknown, where: string, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    throw invalid(where, `\`${field}\` is not a list of strings`);
  return v as string[];
}

/** `where` names the feature in messages (its reference). */
export function parseFeatureMetadata(text: string, where: string): FeatureMetadata {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw invalid(where, `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObj(v)) throw invalid(where, 'not a JSON object');
  if (typeof v.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v.id))
    throw invalid(where, '`id` is missing or not a plain name');
  const out: FeatureMetadata = {
    id: v.id,
    options: {},
    installsAfter: strings(v.installsAfter, where, 'installsAfter'),
    dependsOn: {},
    containerEnv: {},
    mounts: [],
    capAdd: strings(v.capAdd, where, 'capAdd'),
    securityOpt: strings(v.securityOpt, where, 'securityOpt'),
    hooks: {},
    // legacyIds (a renamed feature's old ids, for installsAfter) are not matched.
    ignored: v.legacyIds !== undefined ? ['legacyIds'] : [],
  };
  if (typeof v.version === 'string') out.version = v.version;
  if (v.options !== undefined) {
    if (!isObj(v.options)) throw invalid(where, '`options` is not an object');
    for (const [name, o] of Object.entries(v.options)) out.options[name] = parseOption(o, where, name);
  }
  if (v.dependsOn !== undefined) {
    if (!isObj(v.dependsOn)) throw invalid(where, '`dependsOn` is not an object of feature references');
    for (const [ref, opts] of Object.entries(v.dependsOn))
      out.dependsOn[ref] = givenOptions(opts, `${where} dependsOn ${ref}`);
  }
  if (v.containerEnv !== undefined) {
    if (!isObj(v.containerEnv)) throw invalid(where, '`containerEnv` is not an object of strings');
    for (const [k, val] of Object.entries(v.containerEnv)) {
      if (!ENV_NAME.test(k) || typeof val !== 'string' || /[\r\n\0]/.test(val))
        throw invalid(where, `containerEnv ${JSON.stringify(k)} is not a variable name with a one-line string`);
      out.containerEnv[k] = val;
    }
  }
  if (v.mounts !== undefined) {
    if (!Array.isArray(v.mounts)) throw invalid(where, '`mounts` is not a list');
    out.mounts = v.mounts.map((m) => parseMount(m, where));
  }
  for (const flag of ['privileged', 'init'] as const) {
    if (v[flag] === undefined) continue;
    if (typeof v[flag] !== 'boolean') throw invalid(where, `\`${flag}\` is not true or false`);
    out[flag] = v[flag];
  }
  if (v.entrypoint !== undefined) {
    if (typeof v.entrypoint !== 'string' || /[\r\n\0]/.test(v.entrypoint))
      throw invalid(where, '`entrypoint` is not a one-line command');
    out.entrypoint = v.entrypoint;
  }
  for (const [field, hook] of HOOK_FIELDS) {
    if (v[field] === undefined) continue;
    const command = hookCommand(v[field]);
    if (command === undefined)
      throw invalid(where, `\`${field}\` is not a command (a string, a list of strings, or an object of those)`);
    out.hooks[hook] = command;
  }
  if (v.customizations !== undefined) {
    if (!isObj(v.customizations)) throw invalid(where, '`customizations` is not an object');
    out.customizations = v.customizations;
    parseCustomizations(v.customizations, where, out);
  }
  return out;
}

/** A lifecycle command in any of its forms; undefined when it is none of them. */
function hookCommand(v: unknown): HookCommand | undefined {
  const single = (c: unknown) =>
    typeof c === 'string' || (Array.isArray(c) && c.length > 0 && c.every((a) => typeof a === 'string'));
  if (single(v)) return v as HookCommand;
  if (!isObj(v) || !Object.values(v).every(single)) return undefined;
  return v as Record<string, string | string[]>;
}

/** `customizations.vscode` taken; any other tool's customizations, or other vscode keys, named as ignored. */
function parseCustomizations(c: Record<string, unknown>, where: string, out: FeatureMetadata): void {
  for (const tool of Object.keys(c)) if (tool !== 'vscode') out.ignored.push(`customizations.${tool}`);
  const vscode = c.vscode;
  if (vscode === undefined) return;
  if (!isObj(vscode)) throw invalid(where, '`customizations.vscode` is not an object');
  for (const key of Object.keys(vscode))
    if (key !== 'extensions' && key !== 'settings') out.ignored.push(`customizations.vscode.${key}`);
  const extensions: string[] = [];
  for (const id of strings(vscode.extensions, where, 'customizations.vscode.extensions')) {
    if (EXTENSION_ID.test(id)) extensions.push(id);
    else out.ignored.push(`the extension ${JSON.stringify(id)} (not a publisher.name id)`);
  }
  if (vscode.settings !== undefined && !isObj(vscode.settings))
    throw invalid(where, '`customizations.vscode.settings` is not an object');
  const settings = (vscode.settings ?? {}) as Record<string, unknown>;
  if (extensions.length || Object.keys(settings).length) out.vscode = { extensions, settings };
}

function parseOption(o: unknown, where: string, name: string): FeatureOption {
  if (!isObj(o) || (o.type !== 'string' && o.type !== 'boolean'))
    throw invalid(where, `option ${JSON.stringify(name)} has no type "string" or "boolean"`);
  const out: FeatureOption = { type: o.type };
  if (o.default !== undefined) {
    if (typeof o.default !== (o.type === 'boolean' ? 'boolean' : 'string'))
      throw invalid(where, `option ${JSON.stringify(name)}'s default is not a ${o.type}`);
    out.default = o.default as OptionValue;
  }
  if (o.type === 'string' && o.enum !== undefined) out.enum = strings(o.enum, where, `options.${name}.enum`);
  return out;
}

/** A mount as an object, or in `docker run --mount` form (`type=volume,source=x,target=/y`). */
function parseMount(m: unknown, where: string): FeatureMount {
  let fields: Record<string, unknown>;
  if (typeof m === 'string') {
    fields = {};
    for (const part of m.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
    fields.source ??= fields.src;
    fields.target ??= fields.dst ?? fields.destination;
  } else if (isObj(m)) fields = m;
  else throw invalid(where, 'a mount is neither an object nor a string');
  const type = fields.type ?? 'volume';
  if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs')
    throw invalid(where, `mount type ${JSON.stringify(type)} is not volume, bind or tmpfs`);
  // A feature comes from a registry: it may not reach into the node's folders.
  if (type === 'bind')
    throw invalid(where, `a bind mount (of the node's ${JSON.stringify(fields.source)}) is not allowed in a feature`);
  if (typeof fields.target !== 'string' || !fields.target.startsWith('/'))
    throw invalid(where, 'a mount has no absolute target');
  if (fields.source !== undefined && typeof fields.source !== 'string')
    throw invalid(where, "a mount's source is not a string");
  return {
    type,
    target: fields.target,
    ...(typeof fields.source === 'string' && fields.source ? { source: fields.source } : {}),
  };
}

/**
 * The options a project gives a feature: an object of strings and booleans (numbers are taken as
 * their text); `"lts"` alone is the legacy form of `{ "version": "lts" }`; `true`/`{}` none.
 */
export function givenOptions(v: unknown, where: string): Record<string, OptionValue> {
  if (typeof v === 'string') return { version: v };
  if (v === true || v === undefined || v === null) return {};
  if (!isObj(v)) throw badOption(where, 'its options must be an object of strings and booleans');
  const out: Record<string, OptionValue> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'number') out[k] = String(val);
    else if (typeof val === 'string' || typeof val === 'boolean') out[k] = val;
    else throw badOption(where, `option ${JSON.stringify(k)} must be a string or a boolean`);
  }
  return out;
}

function badOption(where: string, what: string): AgentError {
  return new AgentError('FEATURE_INVALID', `The feature ${where}: ${what}`, {
    provider: 'docker',
    hint: "Check the feature's options in devcontainer.json against its devcontainer-feature.json.",
  });
}

/** An option id as the spec turns it into a variable name: non-word characters and a leading digit become `_`, upper case. */
export function optionEnvName(id: string): string {
  return id
    .replace(/[^\w]/g, '_')
    .replace(/^[\d_]+/, '_')
    .toUpperCase();
}

/**
 * The variables install.sh gets for the options: each option given or with a default. An option
 * the feature does not declare, a value of the wrong type or outside the enum is FEATURE_INVALID.
 */
export function optionEnv(
  meta: FeatureMetadata,
  given: Record<string, OptionValue>,
  ref: string,
): Record<string, string> {
  for (const name of Object.keys(given)) {
    if (!(name in meta.options)) {
      const known = Object.keys(meta.options);
      throw badOption(
        ref,
        `it has no option ${JSON.stringify(name)} (${known.length ? `its options: ${known.join(', ')}` : 'it takes no options'})`,
      );
    }
  }
  const env: Record<string, string> = {};
  for (const [name, opt] of Object.entries(meta.options)) {
    let value = given[name] ?? opt.default;
    if (value === undefined) continue;
    if (opt.type === 'boolean' && typeof value === 'string') {
      if (value !== 'true' && value !== 'false')
        throw badOption(ref, `option ${JSON.stringify(name)} must be true or false, got ${JSON.stringify(value)}`);
      value = value === 'true';
    }
    if (opt.type === 'string' && typeof value === 'boolean') value = String(value);
    if (opt.enum && typeof value === 'string' && !opt.enum.includes(value))
      throw badOption(
        ref,
        `option ${JSON.stringify(name)} must be one of ${opt.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`,
      );
    env[optionEnvName(name)] = String(value);
  }
  return env;
}
