/**
 * devcontainer.json's `portsAttributes` and `otherPortsAttributes`: the attributes Vendetta shows
 * and acts on (label, onAutoForward, protocol) are taken as written, for the workspace schema to
 * check; any other attribute (requireLocalPort, elevateIfNeeded) is named in a warning.
 */
import type { Node as JsonNode } from 'jsonc-parser';
import type { DevcontainerContext } from './devcontainerContext';
import type { PortAttributes } from './types';

const HONOURED = new Set(['label', 'onAutoForward', 'protocol']);

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
