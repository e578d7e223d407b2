/**
 * What each devcontainer.json field converter works with: the file's top-level properties, the
 * config being made, where each part of it came from (so later diagnostics point into the file),
 * and a way to report a problem at a JSON node.
 */
import type { Node as JsonNode } from 'jsonc-parser';
import type { DiagnosticInit, Range } from './diagnostics';
import type { WorkspaceConfig } from './types';

export interface JsonProp {
  key: JsonNode;
  value: JsonNode;
}

export interface DevcontainerContext {
  file: string;
  props: Map<string, JsonProp>;
  config: WorkspaceConfig;
  sources: Map<string, JsonNode>;
  report(at: JsonNode | Range, init: DiagnosticInit): void;
  /** An object node's properties by name (the last of a repeated name wins, as in JSON.parse). */
  objectProps(n: JsonNode): Map<string, JsonProp>;
  /** An object of strings, or undefined (reported) when it is not one; `what` names it in messages. */
  stringMap(n: JsonNode, what: string): Record<string, string> | undefined;
}

export function objectProps(n: JsonNode): Map<string, JsonProp> {
  const out = new Map<string, JsonProp>();
  for (const p of n.children ?? []) {
    const [key, value] = p.children ?? [];
    if (key && value) out.set(String(key.value), { key, value });
  }
  return out;
}

export function stringMapOf(
  n: JsonNode,
  what: string,
  report: DevcontainerContext['report'],
): Record<string, string> | undefined {
  if (n.type !== 'object') {
    report(n, { code: 'schema', message: `\`${what}\` must be an object of names to strings` });
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [name, p] of objectProps(n)) {
    if (p.value.type !== 'string') report(p.value, { code: 'schema', message: `\`${what}.${name}\` must be a string` });
    else out[name] = p.value.value as string;
  }
  return out;
}
