/**
 * What a service's process sees: the workspace's env, the discovery env of every service with a
 * port, then the service's own env on top, and the run marker the agent finds its processes by.
 */
import type { ServiceSpec } from '../protocol';

/** Inside the workspace a service is reached on loopback, at its own port. */
export const SERVICE_HOST = '127.0.0.1';
/** Each process of a service run carries this, inherited by its children (see processControl.ts). */
export const RUN_MARKER_VAR = 'VENDETTA_SERVICE_RUN';

/** `my-api` → `MY_API`. */
export function envName(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}

/** A TCP-checked service is not HTTP: its URL says tcp:// so nobody opens it in a browser. */
export function serviceScheme(svc: ServiceSpec): 'http' | 'tcp' {
  return svc.healthcheck?.kind === 'tcp' ? 'tcp' : 'http';
}

export function serviceUrl(svc: ServiceSpec, host = SERVICE_HOST): string | undefined {
  if (svc.port === undefined) return undefined;
  return `${serviceScheme(svc)}://${host}:${svc.port}`;
}

/** `VENDETTA_SERVICE_<NAME>_URL|_HOST|_PORT` for every service with a port. */
export function discoveryEnv(services: readonly ServiceSpec[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of services) {
    if (s.port === undefined) continue;
    const n = `VENDETTA_SERVICE_${envName(s.name)}`;
    out[`${n}_URL`] = serviceUrl(s)!;
    out[`${n}_HOST`] = SERVICE_HOST;
    out[`${n}_PORT`] = String(s.port);
  }
  return out;
}

export function serviceEnv(
  workspaceEnv: Record<string, string>,
  services: readonly ServiceSpec[],
  svc: ServiceSpec,
  runId: string,
): Record<string, string> {
  return { ...workspaceEnv, ...discoveryEnv(services), ...svc.env, [RUN_MARKER_VAR]: runId };
}
