/**
 * The VS Code customizations a workspace gets: its Dev Container Features' (in install order) and
 * the project's, merged as the Dev Containers spec merges them: extensions are the union, and a
 * setting given more than once takes the last value, so the project's own wins over a feature's.
 * A project's `-publisher.name` removes that extension from the union (VS Code's devcontainer.json
 * schema: "A minus '-' in front of the extension id removes it from the list").
 */
import type { VscodeAdditions } from '../../agent/protocol';
import type { VscodeCustomizations } from '../config';

export function mergeVscode(
  features: readonly VscodeAdditions[],
  project: VscodeCustomizations | undefined,
): VscodeCustomizations | undefined {
  const all = [...features, ...(project ? [project] : [])];
  // Extension ids are case-insensitive: the first spelling stays.
  const ids = all.flatMap((c) => c.extensions ?? []);
  const removed = new Set(ids.filter((id) => id.startsWith('-')).map((id) => id.slice(1).toLowerCase()));
  const byId = new Map<string, string>();
  for (const id of ids) {
    const key = id.toLowerCase();
    if (!id.startsWith('-') && !removed.has(key) && !byId.has(key)) byId.set(key, id);
  }
  const extensions = [...byId.values()];
  const settings: Record<string, unknown> = Object.assign({}, ...all.map((c) => c.settings ?? {}));
  if (!extensions.length && !Object.keys(settings).length) return undefined;
  return {
    ...(extensions.length ? { extensions } : {}),
    ...(Object.keys(settings).length ? { settings } : {}),
  };
}
