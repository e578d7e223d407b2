/**
 * Checks the schema cannot express: dependencies that name no service, dependency cycles, two
 * services on one port, healthchecks on ports nothing publishes, durations out of range.
 * They run on data that may have failed the schema, so every shape is checked before use.
 */
import { notRunnableReason, PROVIDER_NAMES, RUNNABLE_PROVIDERS, type ProviderName } from '../../agent/protocol';
import { type Diagnostic, type DiagnosticInit, diagnosticAt } from './diagnostics';
import { closestMatch } from './didYouMean';
import { checkForwardPorts, checkPortsAttributes } from './portChecks';
import type { Locator } from './schemaErrors';
import { MAX_DURATION_MS, tryParseDuration } from './units';

type Rec = Record<string, unknown>;

function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

export function semanticDiagnostics(data: unknown, file: string, locate: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (path: string[], init: DiagnosticInit) => out.push(diagnosticAt(file, locate(path), init));
  if (!isRecord(data)) return out;

  checkDockerImage(data, report);
  checkQemuImage(data, report);
  checkProvider(data, report);
  checkIdleTimeout(data, report);
  const services = isRecord(data.services) ? data.services : {};
  const names = Object.keys(services);
  const deps = new Map<string, { dep: string; index: number }[]>();
  for (const name of names) {
    const svc = services[name];
    if (!isRecord(svc)) continue;
    const list = Array.isArray(svc.depends_on) ? svc.depends_on : [];
    const known: { dep: string; index: number }[] = [];
    list.forEach((dep: unknown, index) => {
      if (typeof dep !== 'string') return;
      if (dep in services) known.push({ dep, index });
      else {
        const guess = closestMatch(
          dep,
          names.filter((n) => n !== name),
        );
        report(['services', name, 'depends_on', String(index)], {
          code: 'depends-on-unknown',
          message: `\`${name}\` depends on \`${dep}\`, which is not a service in this file${guess ? `; did you mean \`${guess}\`?` : ''}`,
          hint: names.length
            ? `the services are: ${names.join(', ')}`
            : 'define it under `services:` or remove it from depends_on',
          ...(guess ? { fix: { replacement: guess } } : {}),
        });
      }
    });
    deps.set(name, known);
  }
  for (const cycle of findCycles(names, deps)) {
    const [first, second] = cycle;
    const edge = deps.get(first ?? '')?.find((d) => d.dep === second);
    report(['services', first ?? '', 'depends_on', String(edge?.index ?? 0)], {
      code: 'dependency-cycle',
      message: `dependency cycle: ${cycle.join(' -> ')}`,
      hint: 'services start after the services they depend on, so a cycle can never start; remove one of these depends_on entries',
    });
  }
  checkPorts(services, report);
  checkHealthchecks(services, report);
  checkForwardPorts(data, names, report);
  checkPortsAttributes(data, report);
  return out;
}

/** Each distinct cycle once, starting at the service that comes first in the file. */
function findCycles(names: readonly string[], deps: Map<string, { dep: string }[]>): string[][] {
  const order = new Map(names.map((n, i) => [n, i]));
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const cycles: string[][] = [];
  const visitNode = (n: string) => {
    state.set(n, 'active');
    stack.push(n);
    for (const { dep } of deps.get(n) ?? []) {
      if (state.get(dep) === 'active') {
        const loop = stack.slice(stack.indexOf(dep));
        const startAt = loop.reduce(
          (best, x, i) => ((order.get(x) ?? 0) < (order.get(loop[best] ?? '') ?? 0) ? i : best),
          0,
        );
        const rotated = [...loop.slice(startAt), ...loop.slice(0, startAt)];
        const key = rotated.join('\0');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...rotated, rotated[0] ?? '']);
        }
      } else if (!state.has(dep)) visitNode(dep);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of names) if (!state.has(n)) visitNode(n);
  return cycles;
}

function checkPorts(services: Rec, report: (path: string[], init: DiagnosticInit) => void): void {
  const owner = new Map<number, string>();
  for (const [name, svc] of Object.entries(services)) {
    if (!isRecord(svc) || !isPort(svc.port)) continue;
    const other = owner.get(svc.port);
    if (other === undefined) owner.set(svc.port, name);
    else {
      report(['services', name, 'port'], {
        code: 'port-clash',
        message: `port ${svc.port} is used by both \`${other}\` and \`${name}\``,
        hint: 'each service needs its own port',
      });
    }
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0']);

function checkHealthchecks(services: Rec, report: (path: string[], init: DiagnosticInit) => void): void {
  const published = new Set<number>();
  for (const svc of Object.values(services)) if (isRecord(svc) && isPort(svc.port)) published.add(svc.port);
  const list = [...published].sort((a, b) => a - b).join(', ');

  for (const [name, svc] of Object.entries(services)) {
    if (!isRecord(svc) || !isRecord(svc.healthcheck)) continue;
    const hc = svc.healthcheck;
    const unpublished = (port: number, key: string) =>
      report(['services', name, 'healthcheck', key], {
        code: 'healthcheck-port',
        message: `the healthcheck of \`${name}\` checks port ${port}, which no service publishes`,
        hint: isPort(svc.port)
          ? `\`${name}\` publishes port ${svc.port}; check the port in the healthcheck`
          : `add \`port: ${port}\` to \`${name}\`${list ? ` (published ports: ${list})` : ''}`,
      });
    if (isPort(hc.tcp) && !published.has(hc.tcp)) unpublished(hc.tcp, 'tcp');
    if (typeof hc.http === 'string') {
      const port = loopbackPort(hc.http);
      if (port !== undefined && !published.has(port)) unpublished(port, 'http');
    }
    for (const key of ['interval', 'timeout', 'start_period'] as const) {
      const ms = tryParseDuration(hc[key]);
      if (ms === undefined) continue;
      if (ms > MAX_DURATION_MS) {
        report(['services', name, 'healthcheck', key], {
          code: 'bad-duration',
          message: `\`services.${name}.healthcheck.${key}\` is ${String(hc[key])}; the longest allowed is 24h`,
          hint: 'check the unit: ms, s, m or h',
        });
      } else if (ms === 0 && key !== 'start_period') {
        report(['services', name, 'healthcheck', key], {
          code: 'bad-duration',
          message: `\`services.${name}.healthcheck.${key}\` must be longer than 0`,
          hint: 'e.g. 2s',
        });
      }
    }
  }
}

/** The explicit port of a URL on the workspace's own loopback, if it has one. */
function loopbackPort(url: string): number | undefined {
  const m = /^https?:\/\/([^/:?#]+|\[[^\]]*\]):([0-9]+)/.exec(url);
  if (!m || !LOOPBACK_HOSTS.has((m[1] ?? '').toLowerCase())) return undefined;
  const port = Number(m[2]);
  return isPort(port) ? port : undefined;
}

/** lxc is in the schema for the provider to come; until then a config asking for it is refused here, not by the node. */
function checkProvider(data: Rec, report: (path: string[], init: DiagnosticInit) => void): void {
  const p = data.provider;
  if (
    typeof p !== 'string' ||
    !PROVIDER_NAMES.includes(p as ProviderName) ||
    RUNNABLE_PROVIDERS.includes(p as ProviderName)
  )
    return;
  report(['provider'], {
    code: 'unsupported',
    message: `provider \`${p}\` is not available: ${notRunnableReason(p as ProviderName)}`,
    hint: `use ${RUNNABLE_PROVIDERS.map((r) => `\`provider: ${r}\``).join(' or ')} (or leave \`provider\` out: docker is the default)`,
  });
}

/** The node looks every few seconds; a timeout shorter than a second would stop a workspace before anyone could reach it. */
function checkIdleTimeout(data: Rec, report: (path: string[], init: DiagnosticInit) => void): void {
  const ms = tryParseDuration(data.idleTimeout);
  if (ms === undefined) return;
  if (ms < 1000)
    report(['idleTimeout'], {
      code: 'out-of-range',
      message: `\`idleTimeout\` ${data.idleTimeout} is shorter than a second`,
      hint: 'give at least 1s (e.g. 30m), or leave it out to never stop an idle workspace',
    });
  else if (ms > 30 * 24 * 3600_000)
    report(['idleTimeout'], {
      code: 'out-of-range',
      message: `\`idleTimeout\` ${data.idleTimeout} is longer than 30 days`,
      hint: 'leave it out to never stop an idle workspace',
    });
}

/** A downloaded base image is only trusted with its checksum (the schema cannot say "required for a URL"). */
function checkQemuImage(data: Rec, report: (path: string[], init: DiagnosticInit) => void): void {
  if (!isRecord(data.qemu) || typeof data.qemu.image !== 'string') return;
  if (/^https?:\/\//i.test(data.qemu.image) && data.qemu.imageSha256 === undefined)
    report(['qemu', 'image'], {
      code: 'qemu-image-checksum',
      message:
        '`qemu.image` is a URL but `qemu.imageSha256` is missing: the node only uses a downloaded image whose checksum it can check',
      hint: 'add `imageSha256: <the sha256 of the image, 64 hex digits>` under `qemu:` (the publisher’s SHA256SUMS has it)',
    });
}

function checkDockerImage(data: Rec, report: (path: string[], init: DiagnosticInit) => void): void {
  if (!isRecord(data.docker)) return;
  if (data.docker.image !== undefined && data.docker.build !== undefined) {
    report(['docker', 'build'], {
      code: 'conflict',
      severity: 'warning',
      message:
        '`docker` sets both `image` and `build`; `image` is not used: the image is built from `build` on the node and named vendetta-ws/<workspace>:<hash of the build inputs>',
      hint: "remove `image` (name the base image in the Dockerfile's FROM line)",
    });
  }
}
