/**
 * The Remote-SSH side of a workspace, as pure functions: the folder URI `vscode.openFolder`
 * gets, and the reverse — which Vendetta workspace (if any) a window's remote authority names.
 */

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ALIAS = /^([a-z0-9][a-z0-9-]{0,62})\.([a-z0-9][a-z0-9-]{0,62})\.vendetta$/;

export const REMOTE_SSH_AUTHORITY_PREFIX = 'ssh-remote+';

export function workspaceAlias(workspace: string, node: string): string {
  if (!NAME.test(workspace) || !NAME.test(node))
    throw new Error(`Not a workspace and node name: ${JSON.stringify(workspace)} on ${JSON.stringify(node)}`);
  return `${workspace}.${node}.vendetta`;
}

/**
 * `vscode-remote://ssh-remote+<ws>.<node>.vendetta<folder>`, each path segment percent-encoded
 * (a folder with spaces stays one path). Parse it with vscode.Uri.parse.
 */
export function remoteFolderUri(alias: string, workspaceFolder: string): string {
  if (!ALIAS.test(alias)) throw new Error(`Not a Vendetta workspace host: ${JSON.stringify(alias)}`);
  if (!workspaceFolder.startsWith('/'))
    throw new Error(`The workspace folder must be an absolute path: ${JSON.stringify(workspaceFolder)}`);
  const path = workspaceFolder
    .split('/')
    .map((seg) => encodeURIComponent(seg))
    .join('/');
  return `vscode-remote://${REMOTE_SSH_AUTHORITY_PREFIX}${alias}${path}`;
}

/** `{ workspace, node, alias }` for an authority like `ssh-remote+shop.build-1.vendetta`, else undefined. */
export function parseVendettaAuthority(
  authority: string | undefined,
): { workspace: string; node: string; alias: string } | undefined {
  if (!authority?.startsWith(REMOTE_SSH_AUTHORITY_PREFIX)) return undefined;
  const alias = authority.slice(REMOTE_SSH_AUTHORITY_PREFIX.length).toLowerCase();
  const m = ALIAS.exec(alias);
  if (!m) return undefined;
  return { workspace: m[1]!, node: m[2]!, alias };
}

/** The extension ids of Remote-SSH and the forks that take the same `ssh-remote+` URIs, preferred first. */
export const REMOTE_SSH_EXTENSIONS = ['ms-vscode-remote.remote-ssh', 'jeanp413.open-remote-ssh'] as const;

export function pickRemoteSsh(installed: readonly string[]): string | undefined {
  const lower = new Set(installed.map((id) => id.toLowerCase()));
  return REMOTE_SSH_EXTENSIONS.find((id) => lower.has(id));
}

/** The ssh argv of "Open Terminal in Workspace": the generated config, the workspace's host. */
export function terminalSshArgs(sshConfigPath: string, alias: string): string[] {
  return ['-F', sshConfigPath, alias];
}
