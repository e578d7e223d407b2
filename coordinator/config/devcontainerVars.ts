/**
 * devcontainer.json's `${...}` variables, substituted as the Dev Containers reference CLI does:
 * `${localEnv:VAR}` (and `${env:VAR}`, `${localEnv:VAR:default}`), `${localWorkspaceFolder}`,
 * `${localWorkspaceFolderBasename}`, `${containerWorkspaceFolder}`,
 * `${containerWorkspaceFolderBasename}` and `${devcontainerId}` in every string value of the file.
 * `${containerEnv:VAR}` needs the running container's environment, so it is left for the agent,
 * which resolves it in `remoteEnv` (the one field the spec gives it); anywhere else it is named in
 * a warning. Values are replaced in the parsed tree, so diagnostics still point into the file.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Node as JsonNode } from 'jsonc-parser';
import type { DevcontainerContext } from './devcontainerContext';

export interface DevcontainerVars {
  /** The project folder on this machine, absolute. */
  localWorkspaceFolder: string;
  /** The devcontainer.json on this machine, absolute (with the folder, it makes `${devcontainerId}`). */
  configFile: string;
  /** The environment of whoever runs `up` (the CLI's or VS Code's), for `${localEnv:…}`. */
  env: Readonly<Record<string, string | undefined>>;
}

const VARIABLE = /\$\{(.*?)\}/g;

/**
 * The id the reference CLI gives a dev container: the sha256 of its id labels (local folder and
 * config file, keys sorted) as a base-32 number of 52 digits. Stable across rebuilds of one
 * project and config, different for another config of the same project.
 */
export function devcontainerId(localWorkspaceFolder: string, configFile: string): string {
  const labels: Record<string, string> = {
    'devcontainer.local_folder': localWorkspaceFolder,
    'devcontainer.config_file': configFile,
  };
  const digest = createHash('sha256')
    .update(JSON.stringify(labels, Object.keys(labels).sort()), 'utf8')
    .digest('hex');
  return BigInt(`0x${digest}`).toString(32).padStart(52, '0');
}

/** One string with the variables known here replaced; unknown ones (and containerEnv) stay as written. */
export function substituteString(value: string, vars: DevcontainerVars, containerWorkspaceFolder?: string): string {
  return value.replace(VARIABLE, (match, inner: string) => {
    const [name, ...args] = inner.split(':');
    switch (name) {
      case 'env':
      case 'localEnv': {
        if (args.length === 0 || args[0] === '') return match;
        const v = vars.env[args[0]!];
        // As a shell does (and the reference): a missing variable is its default, else empty.
        return typeof v === 'string' ? v : (args[1] ?? '');
      }
      case 'localWorkspaceFolder':
        return vars.localWorkspaceFolder;
      case 'localWorkspaceFolderBasename':
        return posix.basename(vars.localWorkspaceFolder);
      case 'containerWorkspaceFolder':
        return containerWorkspaceFolder ?? match;
      case 'containerWorkspaceFolderBasename':
        return containerWorkspaceFolder !== undefined ? posix.basename(containerWorkspaceFolder) : match;
      case 'devcontainerId':
        return devcontainerId(vars.localWorkspaceFolder, vars.configFile);
      default:
        return match;
    }
  });
}

/** jsonc-parser's nodes are read-only by type; the tree is this parse's own, so it is changed in place. */
function setValue(n: JsonNode, value: string): void {
  (n as { value: unknown }).value = value;
}

/** Every string value below `n` (property names are left alone, as the reference does). */
function* stringValues(n: JsonNode): Generator<JsonNode> {
  if (n.type === 'string') yield n;
  else if (n.type === 'property') {
    if (n.children?.[1]) yield* stringValues(n.children[1]);
  } else for (const c of n.children ?? []) yield* stringValues(c);
}

/**
 * Substitutes in the whole file. The container folder is the file's `workspaceFolder` (its own
 * variables replaced first) or `defaultFolder(name, workspaceMount)` given those substituted.
 */
export function substituteDevcontainer(
  c: Pick<DevcontainerContext, 'props' | 'report'>,
  root: JsonNode,
  vars: DevcontainerVars,
  defaultFolder: (name: unknown, workspaceMount: unknown) => string,
): void {
  const early = (key: string) => {
    const v = c.props.get(key)?.value;
    if (v?.type === 'string') setValue(v, substituteString(v.value as string, vars));
    return v;
  };
  const nameNode = early('name');
  const folderNode = early('workspaceFolder');
  const mountNode = early('workspaceMount');
  const containerFolder =
    folderNode?.type === 'string' ? (folderNode.value as string) : defaultFolder(nameNode?.value, mountNode?.value);
  const remoteEnv = c.props.get('remoteEnv')?.value;
  const inRemoteEnv = new Set(remoteEnv ? [...stringValues(remoteEnv)] : []);
  for (const n of stringValues(root)) {
    const before = n.value as string;
    if (!before.includes('${')) continue;
    setValue(n, substituteString(before, vars, containerFolder));
    for (const m of (n.value as string).matchAll(VARIABLE)) {
      const name = m[1]!.split(':')[0]!;
      if (name === 'containerEnv' && inRemoteEnv.has(n)) continue;
      c.report(n, {
        code: 'unsupported',
        severity: 'warning',
        message:
          name === 'containerEnv'
            ? `\`${m[0]}\` is substituted only in \`remoteEnv\`; here it stays as written`
            : `\`${m[0]}\` is not a variable Vendetta knows; it stays as written`,
        hint:
          name === 'containerEnv'
            ? 'move the value into remoteEnv, or write it out'
            : 'known: localEnv, localWorkspaceFolder(Basename), containerWorkspaceFolder(Basename), devcontainerId; containerEnv in remoteEnv',
      });
    }
  }
}
