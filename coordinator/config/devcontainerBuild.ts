/**
 * devcontainer.json's image build and lifecycle commands, turned into the workspace config's
 * `docker.build` and `hooks`. Paths in devcontainer.json are relative to the file's own folder;
 * the workspace config's are relative to the project folder (what is synced to the node).
 */
import { posix } from 'node:path';
import type { Node as JsonNode } from 'jsonc-parser';
import type { DevcontainerContext } from './devcontainerContext';
import type { Command, DockerBuildConfig, HookCommand, HookName } from './types';

/** devcontainer.json's lifecycle keys and the hooks they become, in the order they run. */
export const LIFECYCLE_KEYS: ReadonlyArray<readonly [string, HookName]> = [
  ['initializeCommand', 'initialize'],
  ['onCreateCommand', 'onCreate'],
  ['updateContentCommand', 'updateContent'],
  ['postCreateCommand', 'postCreate'],
  ['postStartCommand', 'postStart'],
  ['postAttachCommand', 'postAttach'],
];

/**
 * The folder of a devcontainer.json relative to its project folder, as a POSIX path:
 * `.devcontainer`, `.devcontainer/<name>`, or `.` for `.devcontainer.json` (and a file elsewhere).
 */
export function configDirOf(file: string): string {
  const parts = file.replace(/\\/g, '/').split('/');
  const dir = parts.slice(0, -1);
  if (parts[parts.length - 1] === '.devcontainer.json') return '.';
  if (dir[dir.length - 1] === '.devcontainer') return '.devcontainer';
  if (dir[dir.length - 2] === '.devcontainer') return `.devcontainer/${dir[dir.length - 1]}`;
  return '.';
}

export function convertBuild(c: DevcontainerContext): void {
  const build = c.props.get('build');
  const legacyFile = c.props.get('dockerFile');
  if (!build && !legacyFile) return;
  let dockerfileNode: JsonNode | undefined;
  let contextNode: JsonNode | undefined;
  const out: DockerBuildConfig = {};
  if (build) {
    if (build.value.type !== 'object') {
      c.report(build.value, {
        code: 'schema',
        message: '`build` must be an object such as { "dockerfile": "Dockerfile" }',
      });
      return;
    }
    const fields = c.objectProps(build.value);
    dockerfileNode = fields.get('dockerfile')?.value;
    contextNode = fields.get('context')?.value;
    const args = fields.get('args');
    if (args) {
      const values = c.stringMap(args.value, 'build.args');
      if (values) {
        out.args = values;
        c.sources.set('docker/build/args', args.value);
      }
    }
    const target = fields.get('target');
    if (target) {
      if (target.value.type === 'string') {
        out.target = target.value.value as string;
        c.sources.set('docker/build/target', target.value);
      } else
        c.report(target.value, {
          code: 'schema',
          message: '`build.target` must be a string (a stage of the Dockerfile)',
        });
    }
    for (const [key, p] of fields) {
      if (['dockerfile', 'context', 'args', 'target'].includes(key)) continue;
      c.report(p.key, {
        code: 'unsupported',
        severity: 'warning',
        message: `\`build.${key}\` is not supported and is ignored`,
        hint: 'Vendetta builds with the Docker engine on the node from dockerfile, context, args and target',
      });
    }
    if (!dockerfileNode) {
      c.report(build.key, {
        code: 'schema',
        message: '`build` has no `dockerfile`',
        hint: 'e.g. "build": { "dockerfile": "Dockerfile" } (relative to devcontainer.json)',
      });
      return;
    }
  } else {
    dockerfileNode = legacyFile!.value;
    contextNode = c.props.get('context')?.value;
  }
  if (dockerfileNode.type !== 'string' || (dockerfileNode.value as string).length === 0) {
    c.report(dockerfileNode, { code: 'schema', message: 'the Dockerfile must be named by a non-empty string' });
    return;
  }
  if (contextNode && (contextNode.type !== 'string' || (contextNode.value as string).length === 0)) {
    c.report(contextNode, {
      code: 'schema',
      message: 'the build context must be a non-empty string (a folder, relative to devcontainer.json)',
    });
    return;
  }
  const dir = configDirOf(c.file);
  const context = posix.normalize(posix.join(dir, (contextNode?.value as string | undefined) ?? '.'));
  if (context === '..' || context.startsWith('../') || posix.isAbsolute(context)) {
    c.report(contextNode ?? dockerfileNode, {
      code: 'schema',
      message: `the build context ${JSON.stringify(contextNode?.value)} leaves the project folder`,
      hint: 'Vendetta builds on the node from the project as it is synced there; keep the context inside the project',
    });
    return;
  }
  const dockerfile = posix.relative(
    context === '.' ? '' : context,
    posix.normalize(posix.join(dir, dockerfileNode.value as string)),
  );
  if (dockerfile === '' || dockerfile.startsWith('../') || posix.isAbsolute(dockerfile)) {
    c.report(dockerfileNode, {
      code: 'schema',
      message: `the Dockerfile ${JSON.stringify(dockerfileNode.value)} is not inside the build context ${context}`,
      hint: 'set `build.context` to a folder that holds the Dockerfile (e.g. ".." for the project folder)',
    });
    return;
  }
  out.context = context;
  out.dockerfile = dockerfile;
  c.sources.set('docker/build', build?.value ?? dockerfileNode);
  c.sources.set('docker/build/dockerfile', dockerfileNode);
  if (contextNode) c.sources.set('docker/build/context', contextNode);
  c.config.docker = { ...c.config.docker, build: out };
  delete c.config.docker.image;
}

export function convertLifecycle(c: DevcontainerContext): void {
  for (const [key, hook] of LIFECYCLE_KEYS) {
    const p = c.props.get(key);
    if (!p) continue;
    const cmd = hookCommand(p.value);
    if (cmd === undefined) {
      c.report(p.value, {
        code: 'schema',
        message: `\`${key}\` must be a command string, a list of strings, or an object of named commands`,
      });
      continue;
    }
    c.config.hooks ??= {};
    c.config.hooks[hook] = cmd;
    c.sources.set(`hooks/${hook}`, p.value);
  }
}

function command(n: JsonNode): Command | undefined {
  if (n.type === 'string' && (n.value as string).trim() !== '') return n.value as string;
  if (n.type === 'array' && (n.children ?? []).length > 0 && (n.children ?? []).every((c) => c.type === 'string'))
    return (n.children ?? []).map((c) => c.value as string);
  return undefined;
}

function hookCommand(n: JsonNode): HookCommand | undefined {
  if (n.type !== 'object') return command(n);
  const out: Record<string, Command> = {};
  for (const p of n.children ?? []) {
    const [k, v] = p.children ?? [];
    if (!k || !v) return undefined;
    const c = command(v);
    if (c === undefined) return undefined;
    out[String(k.value)] = c;
  }
  return Object.keys(out).length ? out : undefined;
}
