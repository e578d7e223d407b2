/**
 * The rows of `workspace ports` and the tree's ports: the services' ports, the config's
 * `forwardPorts`, and the ports found listening inside the workspace, each once (a service's row
 * wins over a forwardPorts entry, which wins over a detected port), labelled from
 * `portsAttributes`/`otherPortsAttributes` and marked with the local forward when there is one.
 */
import type { DetectedPort } from '../../agent/protocol';
import type { ForwardPort, PortAttributes, PortAttributesRule } from '../config/types';
import type { ForwardInfo, PortInfo, ServiceStatus } from '../protocol';

/** What the last `up` recorded of the config's ports. */
export interface PortsConfig {
  forwardPorts: ForwardPort[];
  portsAttributes: PortAttributesRule[];
  otherPortsAttributes?: PortAttributes;
}

export interface PortListInput {
  services: readonly ServiceStatus[];
  /** Undefined: not known (the workspace does not run, or could not be asked). */
  detected: readonly DetectedPort[] | undefined;
  config: PortsConfig | undefined;
  forwardOf(port: number): ForwardInfo | undefined;
}

/** The first `portsAttributes` rule that holds the port, else `otherPortsAttributes`. */
export function attributesFor(port: number, config: PortsConfig | undefined): PortAttributes | undefined {
  if (!config) return undefined;
  return config.portsAttributes.find((r) => port >= r.from && port <= r.to)?.attributes ?? config.otherPortsAttributes;
}

export function portList(input: PortListInput): PortInfo[] {
  const rows: PortInfo[] = [];
  const listed = new Set<number>();
  const detected = input.detected ? new Map(input.detected.map((d) => [d.port, d])) : undefined;
  const add = (row: PortInfo) => {
    listed.add(row.port);
    if (detected) {
      const d = detected.get(row.port);
      row.listening = d !== undefined;
      if (d?.loopbackOnly) row.loopbackOnly = true;
    }
    const attrs = attributesFor(row.port, input.config);
    if (attrs?.label !== undefined) row.label = attrs.label;
    if (attrs?.onAutoForward !== undefined) row.onAutoForward = attrs.onAutoForward;
    if (attrs?.protocol !== undefined) row.protocol = attrs.protocol;
    const fwd = input.forwardOf(row.port);
    if (fwd) {
      row.localPort = fwd.localPort;
      row.url = row.protocol === 'https' ? fwd.url.replace(/^http:/, 'https:') : fwd.url;
    }
    rows.push(row);
  };
  for (const s of input.services) {
    if (s.port === undefined || s.nodePort === undefined || listed.has(s.port)) continue;
    const scheme = s.scheme === 'tcp' ? 'tcp' : (attributesFor(s.port, input.config)?.protocol ?? 'http');
    add({
      source: 'service',
      service: s.name,
      port: s.port,
      nodePort: s.nodePort,
      url: `${scheme}://127.0.0.1:${s.nodePort}`,
      health: s.state,
    });
  }
  for (const f of input.config?.forwardPorts ?? []) {
    if (listed.has(f.port)) continue;
    add({ source: 'forwardPorts', port: f.port, ...(f.service !== undefined ? { service: f.service } : {}) });
  }
  for (const d of [...(input.detected ?? [])].sort((a, b) => a.port - b.port)) {
    if (listed.has(d.port)) continue;
    add({ source: 'detected', port: d.port });
  }
  return rows;
}
