/**
 * What VS Code does when a port starts listening inside a workspace, by its `onAutoForward`
 * (Dev Containers' meaning): `notify` (the default) offers to forward it, `openBrowser` forwards
 * and opens it (`openBrowserOnce`: only the first time in this window), `openPreview` forwards
 * and opens it in the Simple Browser, `silent` and `ignore` do nothing. Pure: PortNotices acts.
 */
import type { PortInfo } from '../../../coordinator/protocol';

export interface AutoForwardStep {
  port: PortInfo;
  action: 'notify' | 'openBrowser' | 'openPreview';
}

/** Detected ports listening now that the node can reach (not on loopback only). */
export function reachableDetected(rows: readonly PortInfo[]): Set<number> {
  return new Set(rows.filter((p) => p.source === 'detected' && p.listening && !p.loopbackOnly).map((p) => p.port));
}

/**
 * The steps for ports that started listening since `before` was seen. `before` undefined: the
 * first look at this workspace, so nothing counts as new (no burst of notices at start-up).
 */
export function autoForwardSteps(
  before: ReadonlySet<number> | undefined,
  rows: readonly PortInfo[],
  openedOnce: ReadonlySet<number>,
): AutoForwardStep[] {
  if (!before) return [];
  const now = reachableDetected(rows);
  const out: AutoForwardStep[] = [];
  for (const port of rows) {
    if (!now.has(port.port) || before.has(port.port) || port.localPort !== undefined) continue;
    switch (port.onAutoForward ?? 'notify') {
      case 'notify':
        out.push({ port, action: 'notify' });
        break;
      case 'openBrowserOnce':
        if (!openedOnce.has(port.port)) out.push({ port, action: 'openBrowser' });
        break;
      case 'openBrowser':
        out.push({ port, action: 'openBrowser' });
        break;
      case 'openPreview':
        out.push({ port, action: 'openPreview' });
        break;
      case 'silent':
      case 'ignore':
        break;
    }
  }
  return out;
}
