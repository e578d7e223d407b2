/**
 * The config's `vscode.extensions` (devcontainer.json's customizations.vscode.extensions, with
 * those of its Dev Container Features, as `up` returns them), installed in the remote window that Reopen in Remote Workspace opens. Reopen remembers them
 * per workspace host in the extension's global state (it survives the window reload); this
 * extension, activated again in the remote window, installs the ones not there yet through
 * `workbench.extensions.installExtension`, which puts a workspace extension on the remote side.
 * Not the user-wide `remote.SSH.defaultExtensions`: these belong to one workspace. No vscode
 * import here, so the logic is tested without VS Code.
 */

export const PENDING_EXTENSIONS_KEY = 'vendetta.pendingExtensions';
export const INSTALL_COMMAND = 'workbench.extensions.installExtension';

/** The part of vscode.Memento this needs. */
export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

type Pending = Record<string, string[]>;

export async function rememberExtensions(state: StateStore, alias: string, ids: readonly string[]): Promise<void> {
  const pending = { ...(state.get<Pending>(PENDING_EXTENSIONS_KEY) ?? {}) };
  if (ids.length) pending[alias] = [...ids];
  else delete pending[alias];
  await state.update(PENDING_EXTENSIONS_KEY, pending);
}

/** The install commands for the ids not installed yet (ids compare without case, as VS Code's do). */
export function installRequests(
  ids: readonly string[],
  isInstalled: (id: string) => boolean,
): Array<{ command: string; id: string }> {
  const seen = new Set<string>();
  return ids
    .filter((id) => {
      const k = id.toLowerCase();
      if (seen.has(k) || isInstalled(id)) return false;
      seen.add(k);
      return true;
    })
    .map((id) => ({ command: INSTALL_COMMAND, id }));
}

/**
 * In the remote window of `alias`: installs what Reopen left for it, then forgets it. One failed
 * install is logged and left for the next window; the others still go in.
 */
export async function installPendingExtensions(
  state: StateStore,
  alias: string,
  run: (command: string, id: string) => Thenable<unknown>,
  isInstalled: (id: string) => boolean,
  log: { info(m: string): void; warn(m: string): void },
): Promise<string[]> {
  const ids = state.get<Pending>(PENDING_EXTENSIONS_KEY)?.[alias];
  if (!ids?.length) return [];
  const failed: string[] = [];
  const installed: string[] = [];
  for (const r of installRequests(ids, isInstalled)) {
    try {
      await run(r.command, r.id);
      installed.push(r.id);
    } catch (err) {
      failed.push(r.id);
      log.warn(`Could not install ${r.id} in ${alias}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (installed.length) log.info(`Installed in ${alias} (customizations.vscode.extensions): ${installed.join(', ')}`);
  await rememberExtensions(state, alias, failed);
  return installed;
}
