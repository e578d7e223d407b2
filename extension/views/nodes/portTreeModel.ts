/**
 * The tree's port rows under a running workspace: each `forwardPorts` entry and each port found
 * listening inside it (a dev server started by hand), labelled from `portsAttributes`. Service
 * ports show on their service instead; `onAutoForward: ignore` hides a port. Pure, like nodeTreeModel.
 */
import type { PortInfo, ServiceStatus, WorkspaceSummary } from '../../../coordinator/protocol';
import { COMMAND } from '../../commands/ids';
import type { IconSpec, ItemSpec, PortContext, TreeElement } from './nodeTreeModel';

/** The rows the tree shows as ports of their own, in the coordinator's order. */
export function shownPorts(rows: readonly PortInfo[]): PortInfo[] {
  return rows.filter((p) => p.source !== 'service' && p.onAutoForward !== 'ignore');
}

/** What a running workspace's row holds: its services by name (each with its port's row data), then its other ports. */
export function workspaceChildren(
  w: WorkspaceSummary,
  services: readonly ServiceStatus[],
  ports: readonly PortInfo[],
): TreeElement[] {
  const others: TreeElement[] = shownPorts(ports).map((port) => ({ kind: 'port', workspace: w, port }));
  if (services.length === 0 && others.length === 0)
    return [{ kind: 'message', id: `${w.node}/${w.name}/none`, severity: 'info', label: 'No services' }];
  return [
    ...[...services]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((service): TreeElement => {
        const port = ports.find((p) => p.source === 'service' && p.port === service.port);
        return { kind: 'service', workspace: w, service, ...(port ? { port } : {}) };
      }),
    ...others,
  ];
}

/** `forwardedPort`: carried to this machine (Open); else detected or configured (Forward). */
export function portContext(p: PortInfo): PortContext {
  if (p.localPort !== undefined) return 'forwardedPort';
  return p.source === 'detected' ? 'detectedPort' : 'configuredPort';
}

export function portIcon(p: PortInfo): IconSpec {
  if (p.localPort !== undefined) return { id: 'plug', color: 'charts.green' };
  if (p.listening) return { id: 'radio-tower', color: 'charts.blue' };
  return { id: 'circle-outline', color: 'disabledForeground' };
}

/** `Scratch server · detected · listening`, `→ 127.0.0.1:8765`, `forwardPorts · not listening`. */
export function portDescription(p: PortInfo): string {
  const parts: string[] = [];
  if (p.label !== undefined) parts.push(p.label);
  parts.push(p.service !== undefined ? `${p.source} (${p.service})` : p.source);
  if (p.localPort !== undefined) parts.push(`→ 127.0.0.1:${p.localPort}`);
  else if (p.listening !== undefined)
    parts.push(p.listening ? (p.loopbackOnly ? 'listening on 127.0.0.1 only' : 'listening') : 'not listening');
  return parts.join(' · ');
}

export function portTooltip(w: WorkspaceSummary, p: PortInfo): string {
  const title = p.label !== undefined ? `**${p.label}** (port ${p.port})` : `**Port ${p.port}**`;
  const lines = [`${title} in ${w.name}`, ''];
  lines.push(
    p.source === 'detected'
      ? '- found listening inside the workspace'
      : `- from \`forwardPorts\`${p.service !== undefined ? ` (service ${p.service})` : ''}`,
  );
  if (p.loopbackOnly) lines.push('- listens on 127.0.0.1 only: make it listen on 0.0.0.0 to forward it');
  if (p.url !== undefined) lines.push(`- url: ${p.url}`);
  lines.push('', p.localPort !== undefined ? 'Click to open it in the browser.' : 'Forward it to reach it here.');
  return lines.join('\n');
}

export function portItem(w: WorkspaceSummary, p: PortInfo): ItemSpec {
  const spec: ItemSpec = {
    id: `port:${w.node}/${w.name}/${p.port}`,
    label: `:${p.port}`,
    description: portDescription(p),
    tooltip: portTooltip(w, p),
    icon: portIcon(p),
    contextValue: portContext(p),
    collapsible: 'none',
  };
  if (p.localPort !== undefined)
    spec.command = {
      command: COMMAND.openServiceUrl,
      title: 'Open in Browser',
      arguments: [{ kind: 'port', workspace: w, port: p } satisfies TreeElement],
    };
  return spec;
}
