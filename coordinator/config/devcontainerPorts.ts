/**
 * devcontainer.json's `forwardPorts`, `portsAttributes` and `otherPortsAttributes`. A port number,
 * or `"localhost:N"` (the workspace's own loopback), is forwarded; any other `"host:N"` names
 * another container of a Docker Compose project, which a Vendetta workspace (one container, its
 * services inside it) does not have: it is named in a warning that says how to get the same.
 * The attributes Vendetta shows and acts on (label, onAutoForward, protocol) are taken as written,
 * for the workspace schema to check; any other attribute (requireLocalPort, elevateIfNeeded) is
 * named in a warning.
 */
import type { Node as JsonNode } from 'jsonc-parser';
import type { DiagnosticInit } from './diagnostics';
import type { DevcontainerContext } from './devcontainerContext';
import type { PortAttributes } from './types';

const HONOURED = new Set(['label', 'onAutoForward', 'protocol']);

/** The spec's `"host:port"` form (containers.dev devContainer.base.schema.json). */
const HOST_PORT = /^([a-z0-9-]+):(\d{1,5})$/i;

export function convertForwardPorts(ctx: DevcontainerContext): void {
  const ports = ctx.props.get('forwardPorts');
  if (!ports) return;
  if (ports.value.type !== 'array') {
    ctx.report(ports.value, { code: 'schema', message: '`forwardPorts` must be a list of port numbers' });
    return;
  }
  const out: number[] = [];
  const take = (item: JsonNode, port: number) => {
    ctx.sources.set(`forwardPorts/${out.length}`, item);
    out.push(port);
  };
  for (const item of ports.value.children ?? []) {
    if (item.type === 'number') take(item, item.value as number);
    else if (item.type !== 'string')
      ctx.report(item, { code: 'schema', message: '`forwardPorts` items must be port numbers' });
    else {
      const m = HOST_PORT.exec(item.value as string);
      if (m && m[1]!.toLowerCase() === 'localhost') take(item, Number(m[2]));
      else ctx.report(item, otherHost(item.value as string, m?.[1], m?.[2]));
    }
  }
  ctx.config.forwardPorts = out;
}

function otherHost(entry: string, host: string | undefined, port: string | undefined): DiagnosticInit {
  const shown = JSON.stringify(entry);
  if (host === undefined || port === undefined)
    return {
      code: 'schema',
      severity: 'warning',
      message: `\`forwardPorts\` entry ${shown} is not a port number or "host:port"; it is ignored`,
      hint: 'list port numbers of this workspace, e.g. 3000',
    };
  return {
    code: 'unsupported',
    severity: 'warning',
    message: `\`forwardPorts\` entry ${shown} names \`${host}\`, another container (a Docker Compose service); a Vendetta workspace has no other containers, so it is ignored`,
    hint: `run ${host} inside the workspace as a service of .vendetta/config.yaml (\`services: { ${host}: { command: …, port: ${port} } }\`), whose forwardPorts takes "${host}:${port}"; or list ${port} if it listens in this workspace`,
  };
}

export function convertPortsAttributes(ctx: DevcontainerContext): void {
  const by = ctx.props.get('portsAttributes');
  if (by) {
    if (by.value.type !== 'object')
      ctx.report(by.value, { code: 'schema', message: '`portsAttributes` must be an object of ports to attributes' });
    else {
      const out: Record<string, PortAttributes> = {};
      for (const [key, p] of ctx.objectProps(by.value)) {
        const attrs = attributes(ctx, p.value, `portsAttributes.${key}`);
        if (!attrs) continue;
        out[key] = attrs;
        ctx.sources.set(`portsAttributes/${key}`, p.value);
        ctx.sources.set(`portsAttributes/${key}#key`, p.key);
      }
      ctx.config.portsAttributes = out;
    }
  }
  const other = ctx.props.get('otherPortsAttributes');
  if (other) {
    const attrs = attributes(ctx, other.value, 'otherPortsAttributes');
    if (attrs) {
      ctx.config.otherPortsAttributes = attrs;
      ctx.sources.set('otherPortsAttributes', other.value);
    }
  }
}

function attributes(ctx: DevcontainerContext, n: JsonNode, what: string): PortAttributes | undefined {
  if (n.type !== 'object') {
    ctx.report(n, { code: 'schema', message: `\`${what}\` must be an object (label, onAutoForward, protocol)` });
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [name, p] of ctx.objectProps(n)) {
    if (HONOURED.has(name)) out[name] = p.value.value;
    else
      ctx.report(p.key, {
        code: 'unsupported',
        severity: 'warning',
        message: `\`${what}.${name}\` is not honoured by Vendetta; it is ignored`,
        hint: 'Vendetta uses label, onAutoForward and protocol',
      });
  }
  return out as PortAttributes;
}
