/**
 * The image build that installs features: one build context with a folder per feature (its files
 * and a `devcontainer-features.env` of its options) and a Dockerfile that, on top of the base
 * image, runs each feature's `install.sh` as root in install order and sets their `containerEnv`.
 * What the container needs from the features (mounts, privileges, entrypoints, which variables
 * they set) is summarised in a label of the image, so an image built earlier is used as is. Pure.
 */
import type { TarInput } from '../../../../common/tar/encode';
import type { DockerRunOptions, FeatureHooks, VscodeAdditions } from '../../../protocol';
import type { FeatureMetadata, FeatureMount } from './metadata';

export const FEATURES_LABEL = 'dev.vendetta.features';
/** Where the features' folders are copied inside the image while it is built. */
export const FEATURES_DIR = '/tmp/vendetta-features';

export interface ReadyFeature {
  ref: string;
  meta: FeatureMetadata;
  /** The feature folder's files, paths relative to it. */
  files: TarInput[];
  /** Its options as install.sh's variables (optionEnv). */
  env: Record<string, string>;
}

/** The `_REMOTE_USER`… variables every install.sh gets. */
export interface FeatureUsers {
  remoteUser: string;
  containerUser: string;
}

/** What the container is made with because of the features; the image's label. */
export interface FeaturesSummary {
  /** References in install order. */
  order: string[];
  /** Names of the variables the features' containerEnv set (values are in the image's Env). */
  containerEnv: string[];
  mounts: FeatureMount[];
  privileged?: boolean;
  init?: boolean;
  capAdd: string[];
  securityOpt: string[];
  entrypoints: string[];
  customizations: Array<Record<string, unknown>>;
  /** The features' lifecycle commands, in install order (features without any left out). */
  hooks: FeatureHooks[];
  /** Their `customizations.vscode`, in install order. */
  vscode: VscodeAdditions[];
}

const homeOf = (user: string): string => (user === 'root' || user === '0' ? '/root' : `/home/${user}`);

/** A value inside double quotes for sh: `\`, `"`, `$` and backquote escaped. */
function shDouble(v: string): string {
  return `"${v.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** A value inside double quotes for a Dockerfile ENV: `${VAR}` stays, so PATH=/x:${PATH} extends PATH. */
function dockerfileDouble(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function featureDir(index: number, f: ReadyFeature): string {
  return `${index}-${f.meta.id}`;
}

/** The line each feature's install prints first, so a failed build names the feature that failed. */
export const INSTALLING = 'vendetta: installing feature ';

export function featuresBuildContext(
  base: string,
  baseUser: string | undefined,
  ordered: readonly ReadyFeature[],
  users: FeatureUsers,
): { entries: TarInput[]; summary: FeaturesSummary } {
  const entries: TarInput[] = [];
  const nonRoot = baseUser && baseUser !== 'root' && baseUser !== '0' ? baseUser : undefined;
  // One COPY and one RUN for all features: each Dockerfile step costs the legacy builder a
  // container and a commit. Each install.sh runs in a subshell of its own (its options do not
  // leak), after the containerEnv of the features before it, as separate steps would give.
  const script = ['set -e'];
  ordered.forEach((f, i) => {
    const dir = featureDir(i, f);
    entries.push({ path: dir, type: 'directory', mode: 0o755 });
    for (const file of f.files) {
      if (file.path === 'devcontainer-features.env') continue;
      entries.push({ ...file, path: `${dir}/${file.path}`, uid: 0, gid: 0 });
    }
    const vars = {
      ...f.env,
      _REMOTE_USER: users.remoteUser,
      _REMOTE_USER_HOME: homeOf(users.remoteUser),
      _CONTAINER_USER: users.containerUser,
      _CONTAINER_USER_HOME: homeOf(users.containerUser),
    };
    entries.push({
      path: `${dir}/devcontainer-features.env`,
      type: 'file',
      mode: 0o644,
      data: Object.entries(vars)
        .map(([k, v]) => `${k}=${shDouble(v)}\n`)
        .join(''),
    });
    script.push(
      `echo '${INSTALLING}${dir}'`,
      `(cd ${FEATURES_DIR}/${dir} && chmod +x ./install.sh && set -a && . ./devcontainer-features.env && set +a && ./install.sh)`,
      ...Object.entries(f.meta.containerEnv).map(([k, v]) => `export ${k}=${shExpanding(v)}`),
    );
  });
  const lines = [`FROM ${base}`, ...(nonRoot ? ['USER root'] : []), `COPY . ${FEATURES_DIR}/`];
  lines.push(`RUN ${script.join('; ')}`, ...envInstructions(ordered), ...(nonRoot ? [`USER ${nonRoot}`] : []));
  entries.unshift({ path: 'Dockerfile', type: 'file', mode: 0o644, data: `${lines.join('\n')}\n` });
  return { entries, summary: summarise(ordered) };
}

/** A value inside double quotes for sh where `${VAR}` still expands, as a Dockerfile ENV does. */
function shExpanding(v: string): string {
  return `"${v.replace(/[\\"`]/g, (c) => `\\${c}`)}"`;
}

/**
 * The features' containerEnv as ENV instructions, as few as keep Docker's meaning: one ENV sees
 * only the values from before it, so a name set or used again starts a new instruction.
 */
function envInstructions(ordered: readonly ReadyFeature[]): string[] {
  const out: string[] = [];
  let group: Array<[string, string]> = [];
  const flush = () => {
    if (group.length) out.push(`ENV ${group.map(([k, v]) => `${k}=${dockerfileDouble(v)}`).join(' ')}`);
    group = [];
  };
  for (const f of ordered) {
    for (const [k, v] of Object.entries(f.meta.containerEnv)) {
      if (group.some(([g]) => g === k || v.includes(`$${g}`) || v.includes(`\${${g}`))) flush();
      group.push([k, v]);
    }
  }
  flush();
  return out;
}

function summarise(ordered: readonly ReadyFeature[]): FeaturesSummary {
  const s: FeaturesSummary = {
    order: ordered.map((f) => f.ref),
    containerEnv: [],
    mounts: [],
    capAdd: [],
    securityOpt: [],
    entrypoints: [],
    customizations: [],
    hooks: [],
    vscode: [],
  };
  for (const { ref, meta } of ordered) {
    s.containerEnv.push(...Object.keys(meta.containerEnv).filter((k) => !s.containerEnv.includes(k)));
    s.mounts.push(...meta.mounts);
    if (meta.privileged) s.privileged = true;
    if (meta.init) s.init = true;
    s.capAdd.push(...meta.capAdd.filter((c) => !s.capAdd.includes(c)));
    s.securityOpt.push(...meta.securityOpt.filter((o) => !s.securityOpt.includes(o)));
    if (meta.entrypoint) s.entrypoints.push(meta.entrypoint);
    if (meta.customizations) s.customizations.push(meta.customizations);
    if (Object.keys(meta.hooks).length) s.hooks.push({ feature: ref, hooks: meta.hooks });
    if (meta.vscode) s.vscode.push(meta.vscode);
  }
  return s;
}

/**
 * The container options with the features' added: the project's own mounts win over a feature's
 * mount of the same target; privileges, capabilities and security options add up. A volume's
 * `${devcontainerId}` becomes this workspace's id, so each workspace gets its own volume.
 */
export function withFeatureRun(
  run: DockerRunOptions | undefined,
  s: FeaturesSummary,
  devcontainerId: string,
): DockerRunOptions | undefined {
  const mine = run?.mounts ?? [];
  const extra = s.mounts
    .filter((m) => !mine.some((o) => o.target === m.target))
    .map((m) => ({
      type: m.type,
      target: m.target,
      ...(m.source !== undefined ? { source: m.source.replace(/\$\{devcontainerId\}/g, devcontainerId) } : {}),
    }));
  const capAdd = [...new Set([...(run?.capAdd ?? []), ...s.capAdd])];
  const securityOpt = [...new Set([...(run?.securityOpt ?? []), ...s.securityOpt])];
  const out: DockerRunOptions = { ...run };
  if (extra.length || mine.length) out.mounts = [...extra, ...mine];
  if (s.privileged || run?.privileged) out.privileged = true;
  if (s.init || run?.init) out.init = true;
  if (capAdd.length) out.capAdd = capAdd;
  if (securityOpt.length) out.securityOpt = securityOpt;
  return Object.keys(out).length ? out : undefined;
}

/** The main process started after the features' entrypoints (each runs, then the command is exec'd). */
export function withEntrypoints(command: readonly string[], entrypoints: readonly string[]): string[] {
  if (!entrypoints.length) return [...command];
  return ['/bin/sh', '-c', `${entrypoints.join('\n')}\nexec "$@"`, 'vendetta-features', ...command];
}

/**
 * The label read back from an image; undefined when it has none or it is not ours, or when an
 * older Vendetta wrote it without the features' lifecycle commands (the image is built again).
 */
export function parseFeaturesLabel(text: string | undefined): FeaturesSummary | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as FeaturesSummary;
    return [v.order, v.mounts, v.entrypoints, v.hooks, v.vscode].every(Array.isArray) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The feature (its folder) whose install was running last in a build's output. */
export function featureOfOutput(output: string): string | undefined {
  const at = output.lastIndexOf(INSTALLING);
  return at < 0 ? undefined : /^\S+/.exec(output.slice(at + INSTALLING.length))?.[0];
}
