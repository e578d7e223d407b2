/**
 * devcontainer.json's environment and where the project lands: `containerEnv` (the container's
 * own environment) and `remoteEnv` (logins and lifecycle commands only) kept apart, the login
 * user, `workspaceFolder`, `workspaceMount` in the form that means "the project folder, there",
 * `overrideCommand` (the workspace's main process is always its SSH server), and the VS Code
 * customizations.
 */
import { posix } from 'node:path';
import { getNodeValue } from 'jsonc-parser';
import type { DevcontainerContext } from './devcontainerContext';
import { parseMountString } from './devcontainerRun';
import type { DevcontainerVars } from './devcontainerVars';

export function convertEnv(c: DevcontainerContext): void {
  for (const [key, target] of [
    ['containerEnv', 'env'],
    ['remoteEnv', 'remoteEnv'],
  ] as const) {
    const p = c.props.get(key);
    if (!p) continue;
    if (p.value.type !== 'object') {
      c.report(p.value, { code: 'schema', message: `\`${key}\` must be an object of variable names to strings` });
      continue;
    }
    const out: Record<string, string> = {};
    for (const [name, { key: k, value: v }] of c.objectProps(p.value)) {
      if (v.type === 'null' && key === 'remoteEnv') {
        c.report(k, {
          code: 'unsupported',
          severity: 'warning',
          message: `\`remoteEnv.${name}\`: null (unset) is not supported; the variable keeps its container value`,
          hint: 'leave it out of containerEnv instead',
        });
        continue;
      }
      if (v.type !== 'string') {
        c.report(v, { code: 'schema', message: `\`${key}.${name}\` must be a string` });
        continue;
      }
      out[name] = v.value as string;
      c.sources.set(`${target}/${name}`, v);
      c.sources.set(`${target}/${name}#key`, k);
    }
    c.config[target] = { ...c.config[target], ...out };
  }
}

export function convertWorkspace(c: DevcontainerContext, vars: DevcontainerVars): void {
  const str = (key: string): string | undefined => {
    const p = c.props.get(key);
    if (!p) return undefined;
    if (p.value.type === 'string') return p.value.value as string;
    c.report(p.value, { code: 'schema', message: `\`${key}\` must be a string` });
    return undefined;
  };
  const userKey = c.props.has('remoteUser') ? 'remoteUser' : 'containerUser';
  const user = str(userKey);
  if (user !== undefined) {
    c.config.user = user;
    c.sources.set('user', c.props.get(userKey)!.value);
  }
  const folder = str('workspaceFolder');
  if (folder !== undefined) {
    c.config.workspaceFolder = folder;
    c.sources.set('workspaceFolder', c.props.get('workspaceFolder')!.value);
  }
  const mount = str('workspaceMount');
  if (mount !== undefined) workspaceMount(c, mount, vars);
  const override = c.props.get('overrideCommand');
  if (override) {
    if (override.value.type !== 'boolean')
      c.report(override.value, { code: 'schema', message: '`overrideCommand` must be true or false' });
    else if (override.value.value === false)
      c.report(override.key, {
        code: 'unsupported',
        severity: 'warning',
        message: "`overrideCommand: false` is not supported: the image's own command does not run",
        hint: "the workspace's main process is its SSH server; run the image's command as a service in .vendetta/config.yaml",
      });
  }
}

/** The target of a workspaceMount that binds the project folder (an absolute path); else undefined. */
export function projectMountTarget(text: string, localWorkspaceFolder: string): string | undefined {
  const f = parseMountString(text);
  const source = f.source ?? f.src;
  const target = f.target ?? f.destination ?? f.dst;
  const same = (a: string, b: string) =>
    posix.normalize(a).replace(/\/$/, '') === posix.normalize(b).replace(/\/$/, '');
  const isProject = (f.type ?? 'volume') === 'bind' && typeof source === 'string' && same(source, localWorkspaceFolder);
  return isProject && typeof target === 'string' && target.startsWith('/') ? target : undefined;
}

/**
 * The project folder bound at a target is what Vendetta does anyway (the project is synced to the
 * node and bound at the workspace folder): that form is honoured, anything else is named.
 */
function workspaceMount(c: DevcontainerContext, text: string, vars: DevcontainerVars): void {
  const node = c.props.get('workspaceMount')!;
  const target = projectMountTarget(text, vars.localWorkspaceFolder);
  if (target === undefined) {
    c.report(node.value, {
      code: 'unsupported',
      severity: 'warning',
      message:
        '`workspaceMount`: only a bind mount of the project folder (${localWorkspaceFolder}) is supported; this one is ignored',
      hint: 'the project is synced to the node and bound at `workspaceFolder`; put other folders in `mounts`',
    });
    return;
  }
  const folder = c.config.workspaceFolder;
  if (folder === undefined) {
    c.config.workspaceFolder = target;
    c.sources.set('workspaceFolder', node.value);
  } else if (posix.normalize(folder) !== posix.normalize(target)) {
    c.report(node.value, {
      code: 'unsupported',
      severity: 'warning',
      message: `\`workspaceMount\`: the project lands at workspaceFolder ${folder}, not at ${target}`,
      hint: 'Vendetta binds the project at `workspaceFolder` itself; make the two the same',
    });
  }
}

/** `customizations.vscode.extensions` and `.settings`; other tools' customizations are named. */
export function convertCustomizations(c: DevcontainerContext): void {
  const p = c.props.get('customizations');
  if (!p) return;
  if (p.value.type !== 'object') {
    c.report(p.value, { code: 'schema', message: '`customizations` must be an object of tool names' });
    return;
  }
  for (const [tool, t] of c.objectProps(p.value)) {
    if (tool !== 'vscode') {
      c.report(t.key, {
        code: 'unsupported',
        severity: 'warning',
        message: `\`customizations.${tool}\` is not applied`,
        hint: 'Vendetta applies customizations.vscode (extensions and settings) in the remote VS Code window',
      });
      continue;
    }
    if (t.value.type !== 'object') {
      c.report(t.value, { code: 'schema', message: '`customizations.vscode` must be an object' });
      continue;
    }
    const vscode: NonNullable<DevcontainerContext['config']['vscode']> = {};
    for (const [key, f] of c.objectProps(t.value)) {
      if (key === 'extensions') {
        if (f.value.type !== 'array' || !(f.value.children ?? []).every((x) => x.type === 'string'))
          c.report(f.value, { code: 'schema', message: '`customizations.vscode.extensions` must be a list of ids' });
        else {
          vscode.extensions = (f.value.children ?? []).map((x) => x.value as string);
          c.sources.set('vscode/extensions', f.value);
        }
      } else if (key === 'settings') {
        if (f.value.type !== 'object')
          c.report(f.value, { code: 'schema', message: '`customizations.vscode.settings` must be an object' });
        else {
          vscode.settings = getNodeValue(f.value) as Record<string, unknown>;
          c.sources.set('vscode/settings', f.value);
        }
      } else
        c.report(f.key, {
          code: 'unsupported',
          severity: 'warning',
          message: `\`customizations.vscode.${key}\` is not applied`,
          hint: 'Vendetta applies customizations.vscode.extensions and .settings',
        });
    }
    if (Object.keys(vscode).length) {
      c.config.vscode = vscode;
      c.sources.set('vscode', t.value);
    }
  }
}
