/**
 * Workspace params, checked at the agent's boundary: names, paths, env, keys. Whatever passes
 * here is safe to put in a container config, an sshd_config line or a path on the node.
 */
import { validDotfiles } from './dotfilesParams';
import { posix } from 'node:path';
import {
  NAME_PATTERN,
  notRunnableReason,
  PROVIDER_NAMES,
  MAX_SECRETS,
  RUNNABLE_PROVIDERS,
  secretProblem,
  type CreateWorkspaceParams,
  type DockerFeatures,
  type DockerSettings,
  type ProviderName,
  type RemoveWorkspaceParams,
  type WorkspaceNameParams,
  type WorkspaceSpec,
  type WorkspaceSpecCommon,
} from '../protocol';
import { AgentError } from '../errors';
import { validLxc } from './lxcSpecParams';
import { CONTROL, isObj, positiveNumber } from './specChecks';
import { validQemu } from './qemuSpecParams';
import { validHooks, validServices } from './serviceParams';
import { validRunOptions } from './runOptionsParams';

class Invalid extends AgentError {
  constructor(method: string, what: string) {
    super('INVALID_PARAMS', `Invalid params for ${method}: ${what}`, {
      hint: 'Fix the workspace config; the agent changed nothing.',
    });
  }
}
/** The refusal the per-provider checkers throw, for method `m`. */
const invalidIn = (m: string) => (what: string) => new Invalid(m, what);

/** Login users: what useradd accepts by default on Debian, and short enough for utmp. */
export const USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
/** Docker image references: name[:tag][@digest], no spaces or shell characters. */
export const IMAGE_PATTERN = /^[a-z0-9][a-z0-9._\-/:@]{0,254}$/i;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** One OpenSSH public key line: type, base64 blob, optional comment. No options, no line breaks. */
const KEY_LINE =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,2})(?: [^\r\n]{0,200})?$/;
const MAX_ENV = 1000;
const MAX_ENV_VALUE = 32 * 1024;
const MAX_KEYS = 100;

export function validName(method: string, v: unknown, what = 'name'): string {
  if (typeof v !== 'string' || !NAME_PATTERN.test(v)) {
    throw new Invalid(
      method,
      `${what} must match ${NAME_PATTERN.source} (lowercase letters, digits and dashes, up to 63), got ${JSON.stringify(v)?.slice(0, 80)}`,
    );
  }
  return v;
}

/** An OpenSSH public key line whose blob really is a key of the type it claims. */
export function isPublicKeyLine(line: string): boolean {
  const m = KEY_LINE.exec(line);
  if (!m) return false;
  const blob = Buffer.from(m[2]!, 'base64');
  if (blob.length < 4) return false;
  const len = blob.readUInt32BE(0);
  return len > 0 && 4 + len <= blob.length && blob.subarray(4, 4 + len).toString('latin1') === m[1];
}

/** Absolute, normalized, no trailing slash, not a system folder. */
export function validWorkspaceFolder(method: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024 || CONTROL.test(v))
    throw new Invalid(method, 'workspaceFolder must be an absolute path without control characters');
  if (!v.startsWith('/') || posix.normalize(v) !== v || v.endsWith('/') || v.includes('//')) {
    throw new Invalid(
      method,
      `workspaceFolder must be an absolute, normalized path (no "..", ".", "//" or trailing "/"), got ${JSON.stringify(v)}`,
    );
  }
  const top = v.split('/')[1] ?? '';
  if (['proc', 'sys', 'dev', 'etc', 'run', 'bin', 'sbin', 'lib', 'lib64', 'usr', 'boot'].includes(top)) {
    throw new Invalid(
      method,
      `workspaceFolder ${v} would hide a system folder of the workspace; use e.g. /workspaces/<name>`,
    );
  }
  return v;
}

/** A relative path inside the project: no absolute path, no `..`, no empty parts. */
export function validRelativePath(method: string, what: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024 || CONTROL.test(v))
    throw new Invalid(method, `${what} must be a relative path`);
  const norm = posix.normalize(v);
  if (v.startsWith('/') || norm === '..' || norm.startsWith('../') || v.split('/').includes('..'))
    throw new Invalid(method, `${what} must stay inside the project, got ${JSON.stringify(v)}`);
  return norm;
}

function validDocker(m: string, v: unknown, workspaceFolder: string): DockerSettings {
  if (!isObj(v)) throw new Invalid(m, 'spec.docker must be an object with an image');
  const image = v.image;
  if (typeof image !== 'string' || !IMAGE_PATTERN.test(image))
    throw new Invalid(
      m,
      `spec.docker.image must be an image reference like vendetta/debian:bookworm, got ${JSON.stringify(image)?.slice(0, 80)}`,
    );
  const out: DockerSettings = { image };
  if (v.build !== undefined) {
    if (!isObj(v.build)) throw new Invalid(m, 'spec.docker.build must be an object {context, dockerfile?}');
    out.build = { context: validRelativePath(m, 'spec.docker.build.context', v.build.context) };
    if (v.build.dockerfile !== undefined)
      out.build.dockerfile = validRelativePath(m, 'spec.docker.build.dockerfile', v.build.dockerfile);
    if (v.build.args !== undefined) out.build.args = validBuildArgs(m, v.build.args);
    if (v.build.target !== undefined) {
      if (typeof v.build.target !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(v.build.target))
        throw new Invalid(
          m,
          `spec.docker.build.target must name a build stage, got ${JSON.stringify(v.build.target)?.slice(0, 80)}`,
        );
      out.build.target = v.build.target;
    }
  }
  if (v.run !== undefined) out.run = validRunOptions(m, v.run, workspaceFolder);
  if (v.features !== undefined) {
    out.features = validFeatures(m, v.features);
    if (!image.startsWith('vendetta-ws/'))
      throw new Invalid(
        m,
        'spec.docker.image must be the built image (vendetta-ws/…) when spec.docker.features is set',
      );
  }
  const cpus = positiveNumber(invalidIn(m), 'spec.docker.cpus', v.cpus, { max: 1024 });
  if (cpus !== undefined) out.cpus = cpus;
  // Docker refuses memory limits under 6 MiB.
  const memory = positiveNumber(invalidIn(m), 'spec.docker.memoryBytes', v.memoryBytes, {
    integer: true,
    min: 6 * 1024 * 1024,
    max: 2 ** 50,
  });
  if (memory !== undefined) out.memoryBytes = memory;
  const pids = positiveNumber(invalidIn(m), 'spec.docker.pids', v.pids, { integer: true, max: 4_194_304 });
  if (pids !== undefined) out.pids = pids;
  return out;
}

/** Features: OCI references or `./` folders of the project, each with string/boolean options. */
function validFeatures(m: string, v: unknown): DockerFeatures {
  if (!isObj(v) || !Array.isArray(v.items) || v.items.length === 0 || v.items.length > 64)
    throw new Invalid(m, 'spec.docker.features must be {base, items: [1..64 features], installOrder?}');
  if (typeof v.base !== 'string' || !IMAGE_PATTERN.test(v.base))
    throw new Invalid(m, 'spec.docker.features.base must be an image reference');
  const items = v.items.map((item: unknown, i: number) => {
    if (!isObj(item) || typeof item.id !== 'string' || !isObj(item.options))
      throw new Invalid(m, `spec.docker.features.items[${i}] must be {id, options}`);
    const id = item.id.startsWith('./')
      ? `./${validRelativePath(m, `spec.docker.features.items[${i}].id`, item.id.slice(2))}`
      : item.id;
    if (!id.startsWith('./') && !IMAGE_PATTERN.test(id))
      throw new Invalid(m, `spec.docker.features.items[${i}].id must be an OCI reference or a ./ project folder`);
    const options: Record<string, string | boolean> = {};
    for (const [k, val] of Object.entries(item.options)) {
      if (
        (typeof val !== 'string' && typeof val !== 'boolean') ||
        k.length > 128 ||
        (typeof val === 'string' && val.length > MAX_ENV_VALUE)
      )
        throw new Invalid(
          m,
          `spec.docker.features.items[${i}].options.${k.slice(0, 80)} must be a string or a boolean`,
        );
      options[k] = val;
    }
    return { id, options };
  });
  const out: DockerFeatures = { base: v.base, items };
  if (v.installOrder !== undefined) {
    if (
      !Array.isArray(v.installOrder) ||
      !v.installOrder.every((x: unknown) => typeof x === 'string' && x.length <= 1024)
    )
      throw new Invalid(m, 'spec.docker.features.installOrder must be a list of feature references');
    out.installOrder = [...(v.installOrder as string[])];
  }
  return out;
}

function validBuildArgs(m: string, v: unknown): Record<string, string> {
  if (!isObj(v) || Object.keys(v).length > MAX_ENV)
    throw new Invalid(m, `spec.docker.build.args must be an object of up to ${MAX_ENV} strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!ENV_NAME_PATTERN.test(k))
      throw new Invalid(m, `spec.docker.build.args: ${JSON.stringify(k.slice(0, 80))} is not a valid argument name`);
    if (typeof val !== 'string' || val.includes('\0') || val.length > MAX_ENV_VALUE)
      throw new Invalid(
        m,
        `spec.docker.build.args.${k} must be a string without NUL, up to ${MAX_ENV_VALUE} characters`,
      );
    out[k] = val;
  }
  return out;
}

function validEnv(m: string, v: unknown, what = 'spec.env'): Record<string, string> {
  if (v === undefined) return {};
  if (!isObj(v)) throw new Invalid(m, `${what} must be an object of strings`);
  const entries = Object.entries(v);
  if (entries.length > MAX_ENV) throw new Invalid(m, `${what} has more than ${MAX_ENV} variables`);
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (!ENV_NAME_PATTERN.test(k))
      throw new Invalid(m, `${what}: ${JSON.stringify(k.slice(0, 80))} is not a valid variable name`);
    if (typeof val !== 'string') throw new Invalid(m, `${what}.${k} must be a string`);
    if (val.includes('\0') || val.length > MAX_ENV_VALUE)
      throw new Invalid(m, `${what}.${k} must be a string without NUL, up to ${MAX_ENV_VALUE} characters`);
    out[k] = val;
  }
  return out;
}

function validKeys(m: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_KEYS)
    throw new Invalid(m, `spec.authorizedKeys must list 1 to ${MAX_KEYS} OpenSSH public keys`);
  return v.map((k, i) => {
    if (typeof k !== 'string' || !isPublicKeyLine(k.trim()))
      throw new Invalid(m, `spec.authorizedKeys[${i}] is not an OpenSSH public key line ("ssh-ed25519 AAAA… comment")`);
    return k.trim();
  });
}

/** The common part joined with the settings of its provider, checked; a provider this agent cannot run is refused. */
function withProviderSettings(
  m: string,
  provider: ProviderName,
  common: WorkspaceSpecCommon,
  v: Record<string, unknown>,
): WorkspaceSpec {
  switch (provider) {
    case 'docker':
      return { ...common, provider, docker: validDocker(m, v.docker, common.workspaceFolder) };
    case 'qemu':
      return { ...common, provider, qemu: validQemu(v.qemu, invalidIn(m)) };
    case 'lxc':
      return { ...common, provider, lxc: validLxc(v.lxc, invalidIn(m)) };
    default:
      throw new AgentError(
        'PROVIDER_UNAVAILABLE',
        `This agent cannot run ${provider} workspaces: ${notRunnableReason(provider)}`,
        { provider, hint: `Use provider: ${RUNNABLE_PROVIDERS.join(' or ')}.` },
      );
  }
}

export function validSpec(m: string, v: unknown): WorkspaceSpec {
  if (!isObj(v)) throw new Invalid(m, 'spec must be an object');
  const name = validName(m, v.name, 'spec.name');
  if (typeof v.provider !== 'string' || !PROVIDER_NAMES.includes(v.provider as ProviderName))
    throw new Invalid(m, `spec.provider must be one of ${PROVIDER_NAMES.join(', ')}`);
  const provider = v.provider as ProviderName;
  const user = v.user ?? 'root';
  if (typeof user !== 'string' || !USER_PATTERN.test(user))
    throw new Invalid(
      m,
      `spec.user must be a Unix user name matching ${USER_PATTERN.source}, got ${JSON.stringify(user)?.slice(0, 80)}`,
    );
  const common: WorkspaceSpecCommon = {
    name,
    env: validEnv(m, v.env),
    user,
    workspaceFolder: validWorkspaceFolder(m, v.workspaceFolder),
    authorizedKeys: validKeys(m, v.authorizedKeys),
  };
  if (v.remoteEnv !== undefined) common.remoteEnv = validEnv(m, v.remoteEnv, 'spec.remoteEnv');
  const spec = withProviderSettings(m, provider, common, v);
  if (v.services !== undefined) spec.services = validServices(m, v.services);
  if (v.hooks !== undefined) spec.hooks = validHooks(m, v.hooks);
  if (v.forwardAgent !== undefined) {
    if (typeof v.forwardAgent !== 'boolean')
      throw new Invalid(
        m,
        `spec.forwardAgent must be true or false, got ${JSON.stringify(v.forwardAgent)?.slice(0, 80)}`,
      );
    if (v.forwardAgent) spec.forwardAgent = true;
  }
  if (v.idleTimeoutMs !== undefined) {
    if (
      typeof v.idleTimeoutMs !== 'number' ||
      !Number.isInteger(v.idleTimeoutMs) ||
      v.idleTimeoutMs < 1000 ||
      v.idleTimeoutMs > MAX_IDLE_MS
    )
      throw new Invalid(
        m,
        `spec.idleTimeoutMs must be a whole number of milliseconds from 1000 to ${MAX_IDLE_MS}, got ${JSON.stringify(v.idleTimeoutMs)?.slice(0, 80)}`,
      );
    spec.idleTimeoutMs = v.idleTimeoutMs;
  }
  if (v.gitIdentity !== undefined) {
    const g = v.gitIdentity;
    if (!isObj(g)) throw new Invalid(m, 'spec.gitIdentity must be an object {name?, email?}');
    const id: { name?: string; email?: string } = {};
    for (const k of ['name', 'email'] as const) {
      const x = g[k];
      if (x === undefined) continue;
      // One line of printable text: it becomes a line of ~/.gitconfig.
      if (
        typeof x !== 'string' ||
        x.length === 0 ||
        x.length > 256 ||
        [...x].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)
      )
        throw new Invalid(m, `spec.gitIdentity.${k} must be one line of text of 1 to 256 characters`);
      id[k] = x;
    }
    if (id.name !== undefined || id.email !== undefined) spec.gitIdentity = id;
  }
  return spec;
}

/** 30 days: longer is the same as never. */
const MAX_IDLE_MS = 30 * 24 * 3600_000;

export function validateCreateParams(raw: unknown): CreateWorkspaceParams {
  const m = 'workspaces/create';
  if (!isObj(raw)) throw new Invalid(m, 'expected an object {spec, progressToken?, recreate?}');
  const out: CreateWorkspaceParams = { spec: validSpec(m, raw.spec) };
  if (raw.progressToken !== undefined) {
    if (typeof raw.progressToken !== 'string' || raw.progressToken.length === 0 || raw.progressToken.length > 200)
      throw new Invalid(m, 'progressToken must be a string of 1 to 200 characters');
    out.progressToken = raw.progressToken;
  }
  if (raw.recreate !== undefined && typeof raw.recreate !== 'boolean')
    throw new Invalid(m, 'recreate must be true or false');
  if (raw.recreate === true) out.recreate = true;
  if (raw.secrets !== undefined) out.secrets = validSecrets(m, raw.secrets);
  if (raw.dotfiles !== undefined) out.dotfiles = validDotfiles(raw.dotfiles);
  // Only the agent names the secrets in a spec (from `secrets`), so a client cannot claim any.
  delete out.spec.secretNames;
  return out;
}

/** Messages name a variable, never a value. */
function validSecrets(m: string, v: unknown): Record<string, string> {
  if (!isObj(v)) throw new Invalid(m, 'secrets must be an object of strings');
  const names = Object.keys(v);
  if (names.length > MAX_SECRETS) throw new Invalid(m, `secrets holds more than ${MAX_SECRETS} variables`);
  const out: Record<string, string> = {};
  for (const name of names) {
    const problem = secretProblem(name, v[name]);
    if (problem) throw new Invalid(m, `secrets: ${problem}`);
    out[name] = v[name] as string;
  }
  return out;
}

export function validateNameParams(method: string): (raw: unknown) => WorkspaceNameParams {
  return (raw) => {
    if (!isObj(raw)) throw new Invalid(method, 'expected an object {name}');
    return { name: validName(method, raw.name) };
  };
}

export function validateRemoveParams(raw: unknown): RemoveWorkspaceParams {
  const m = 'workspaces/remove';
  if (!isObj(raw)) throw new Invalid(m, 'expected an object {name, force?}');
  if (raw.force !== undefined && typeof raw.force !== 'boolean') throw new Invalid(m, 'force must be true or false');
  return { name: validName(m, raw.name), ...(raw.force === true ? { force: true } : {}) };
}
