/**
 * Checks on `forwardPorts` and `portsAttributes` the schema cannot express: a `service:port` entry
 * names a service of this file, ports are in range, a range runs upwards.
 */
import type { DiagnosticInit } from './diagnostics';
import { closestMatch } from './didYouMean';

type Report = (path: string[], init: DiagnosticInit) => void;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const inRange = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

export function checkForwardPorts(data: Record<string, unknown>, services: string[], report: Report): void {
  if (!Array.isArray(data.forwardPorts)) return;
  data.forwardPorts.forEach((entry: unknown, index) => {
    if (typeof entry !== 'string') return;
    const m = /^(.+):(\d{1,5})$/.exec(entry);
    if (!m) return; // the schema says what is wrong
    const [, service, port] = m as unknown as [string, string, string];
    const path = ['forwardPorts', String(index)];
    if (!services.includes(service)) {
      const guess = closestMatch(service, services);
      report(path, {
        code: 'forward-port-service',
        message: `\`forwardPorts\` names \`${service}\`, which is not a service in this file${guess ? `; did you mean \`${guess}\`?` : ''}`,
        hint: services.length
          ? `the services are: ${services.join(', ')}; or give the port number alone`
          : 'give the port number alone (this file has no services)',
      });
    } else if (!inRange(Number(port))) {
      report(path, { code: 'schema', message: `port ${port} is not a TCP port number (1-65535)` });
    }
  });
}

export function checkPortsAttributes(data: Record<string, unknown>, report: Report): void {
  if (!isRecord(data.portsAttributes)) return;
  for (const key of Object.keys(data.portsAttributes)) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(key);
    if (!m) continue; // the schema says what is wrong
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (!inRange(from) || !inRange(to) || from > to)
      report(['portsAttributes', key], {
        code: 'schema',
        message: `\`${key}\` is not a port (1-65535) or a range of ports from low to high`,
        hint: 'write a port like "3000" or a range like "5000-5010"',
      });
  }
}
