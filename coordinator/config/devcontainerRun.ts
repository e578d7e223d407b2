/**
 * devcontainer.json's container options — `mounts`, `runArgs` (a safe subset), `privileged`,
 * `capAdd`, `securityOpt`, `init` — turned into the workspace config's `docker.run`. A mount
 * source is a path on the node, not on this machine: each bind mount says so in a warning, since
 * a devcontainer.json written for a local Docker means the laptop's folder.
 */
import type { Node as JsonNode } from 'jsonc-parser';
import type { DevcontainerContext } from './devcontainerContext';
import type { DockerRunConfig } from './types';

type Mount = NonNullable<DockerRunConfig['mounts']>[number];

/** The `docker run` flags runArgs may use, and where each goes; anything else is an error. */
const RUN_FLAGS = [
  '--gpus',
  '--device',
  '--cap-add',
  '--security-opt',
  '--shm-size',
  '--ulimit',
  '--env',
  '-e',
  '--label',
  '-l',
  '--privileged',
  '--init',
  '--mount',
];

export function convertRunOptions(c: DevcontainerContext): void {
  const run: DockerRunConfig = {};
  const bool = (key: 'privileged' | 'init') => {
    const p = c.props.get(key);
    if (!p) return;
    if (p.value.type !== 'boolean') c.report(p.value, { code: 'schema', message: `\`${key}\` must be true or false` });
    else if (p.value.value === true) run[key] = true;
  };
  bool('privileged');
  bool('init');
  for (const key of ['capAdd', 'securityOpt'] as const) {
    const p = c.props.get(key);
    if (!p) continue;
    if (p.value.type !== 'array' || !(p.value.children ?? []).every((x) => x.type === 'string'))
      c.report(p.value, { code: 'schema', message: `\`${key}\` must be a list of strings` });
    else run[key] = [...(run[key] ?? []), ...(p.value.children ?? []).map((x) => x.value as string)];
  }
  const mounts = c.props.get('mounts');
  if (mounts) {
    if (mounts.value.type !== 'array')
      c.report(mounts.value, { code: 'schema', message: '`mounts` must be a list of mounts' });
    else for (const item of mounts.value.children ?? []) addMount(c, run, item, mountOf(c, item));
  }
  const runArgs = c.props.get('runArgs');
  if (runArgs) {
    if (runArgs.value.type !== 'array' || !(runArgs.value.children ?? []).every((x) => x.type === 'string'))
      c.report(runArgs.value, { code: 'schema', message: '`runArgs` must be a list of strings' });
    else readRunArgs(c, run, runArgs.value.children ?? []);
  }
  if (Object.keys(run).length === 0) return;
  c.config.docker = { ...c.config.docker, run };
  c.sources.set(
    'docker/run',
    (mounts ??
      runArgs ??
      c.props.get('privileged') ??
      c.props.get('capAdd') ??
      c.props.get('securityOpt') ??
      c.props.get('init'))!.value,
  );
}

function addMount(c: DevcontainerContext, run: DockerRunConfig, at: JsonNode, m: Mount | undefined): void {
  if (!m) return;
  if (m.type === 'bind') {
    c.report(at, {
      code: 'mount',
      severity: 'warning',
      message: `bind-mounts ${m.source} of the node at ${m.target}${m.readonly ? ' (read-only)' : ''}: a folder on the node, outside the project, that the workspace can ${m.readonly ? 'read' : 'read and change'}`,
      hint: 'the source is a path on the node, not on this machine; the project itself is synced to the workspace folder',
    });
  }
  (run.mounts ??= []).push(m);
}

/** A mount in the string form (`type=bind,source=/a,target=/b,readonly`) or the object form. */
function mountOf(c: DevcontainerContext, n: JsonNode): Mount | undefined {
  let fields: Record<string, string | true> = {};
  if (n.type === 'string') fields = parseMountString(n.value as string);
  else if (n.type === 'object') {
    for (const [k, p] of c.objectProps(n)) {
      if (p.value.type === 'string') fields[k] = p.value.value as string;
      else if (p.value.type === 'boolean' && p.value.value === true) fields[k] = true;
    }
  } else {
    c.report(n, {
      code: 'schema',
      message: 'a mount is a string such as "type=bind,source=/data,target=/data" or an object',
    });
    return undefined;
  }
  const get = (...names: string[]) => names.map((k) => fields[k]).find((v) => v !== undefined);
  const type = (get('type') ?? 'volume') as string;
  const source = get('source', 'src');
  const target = get('target', 'destination', 'dst');
  const readonly = get('readonly', 'ro') !== undefined && get('readonly', 'ro') !== 'false';
  const bad = (message: string, hint?: string) => {
    c.report(n, { code: 'schema', message, ...(hint ? { hint } : {}) });
    return undefined;
  };
  if (!['bind', 'volume', 'tmpfs'].includes(type))
    return bad(`mount type ${JSON.stringify(type)} is not supported`, 'use bind, volume or tmpfs');
  if (typeof target !== 'string' || !target.startsWith('/'))
    return bad('a mount needs an absolute `target` inside the workspace');
  if (typeof source === 'string' && source.includes('${'))
    return bad(
      `the mount source ${JSON.stringify(source)} uses a \${…} variable Vendetta could not substitute`,
      'write the path on the node itself',
    );
  if (type === 'bind' && (typeof source !== 'string' || !source.startsWith('/')))
    return bad('a bind mount needs an absolute `source`: a path on the node');
  if (type === 'volume' && typeof source !== 'string') return bad("a volume mount needs a `source`: the volume's name");
  const out: Mount = { type: type as Mount['type'], target };
  if (typeof source === 'string' && type !== 'tmpfs') out.source = source;
  if (readonly) out.readonly = true;
  for (const k of Object.keys(fields)) {
    if (!['type', 'source', 'src', 'target', 'destination', 'dst', 'readonly', 'ro'].includes(k))
      c.report(n, {
        code: 'unsupported',
        severity: 'warning',
        message: `mount option \`${k}\` is not supported and is ignored`,
      });
  }
  return out;
}

export function parseMountString(s: string): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) out[part.trim()] = true;
    else out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function readRunArgs(c: DevcontainerContext, run: DockerRunConfig, items: JsonNode[]): void {
  for (let i = 0; i < items.length; i++) {
    const node = items[i]!;
    const arg = node.value as string;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (!RUN_FLAGS.includes(flag)) {
      c.report(node, {
        code: 'unsupported',
        message: `\`runArgs\`: ${JSON.stringify(arg.slice(0, 60))} is not supported`,
        hint: `runArgs may use ${RUN_FLAGS.filter((f) => f.startsWith('--')).join(', ')}; the workspace's network, name, ports and main process are Vendetta's`,
      });
      continue;
    }
    if (flag === '--privileged' || flag === '--init') {
      run[flag === '--privileged' ? 'privileged' : 'init'] = true;
      continue;
    }
    let value: string;
    if (arg !== flag) value = arg.slice(eq + 1);
    else {
      const next = items[i + 1];
      if (!next) {
        c.report(node, { code: 'schema', message: `\`runArgs\`: ${flag} needs a value after it` });
        return;
      }
      value = next.value as string;
      i++;
    }
    applyFlag(c, run, node, flag, value);
  }
}

function applyFlag(c: DevcontainerContext, run: DockerRunConfig, node: JsonNode, flag: string, value: string): void {
  const bad = (message: string) => c.report(node, { code: 'schema', message: `\`runArgs\` ${flag}: ${message}` });
  switch (flag) {
    case '--gpus': {
      const v = value.replace(/^count=/, '');
      if (!/^(all|[0-9]+)$/.test(v)) return bad('give `all` or a number of GPUs');
      run.gpus = v;
      return;
    }
    case '--device':
      if (!/^\/[^\s:]+(:\/[^\s:]+)?(:[rwm]+)?$|^\/[^\s:]+:[rwm]+$/.test(value))
        return bad('give a device path such as /dev/fuse');
      (run.devices ??= []).push(value);
      return;
    case '--cap-add':
      (run.capAdd ??= []).push(value);
      return;
    case '--security-opt':
      (run.securityOpt ??= []).push(value);
      return;
    case '--shm-size':
      run.shmSize = /^\d+$/.test(value) ? Number(value) : value;
      return;
    case '--ulimit': {
      const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value);
      if (!m) return bad('give name=soft[:hard], e.g. nofile=1024:2048');
      (run.ulimits ??= []).push({ name: m[1]!, soft: Number(m[2]), hard: Number(m[3] ?? m[2]) });
      return;
    }
    case '--env':
    case '-e': {
      const at = value.indexOf('=');
      if (at <= 0) return bad('give NAME=value (a variable from this machine is not passed)');
      c.config.env = { ...c.config.env, [value.slice(0, at)]: value.slice(at + 1) };
      return;
    }
    case '--label':
    case '-l': {
      const at = value.indexOf('=');
      run.labels = { ...run.labels, [at < 0 ? value : value.slice(0, at)]: at < 0 ? '' : value.slice(at + 1) };
      return;
    }
    case '--mount': {
      const m = mountOf(c, { ...node, value } as JsonNode);
      addMount(c, run, node, m);
      return;
    }
  }
}
