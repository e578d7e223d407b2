/**
 * When `up` or `start` leaves services failed, the user reads why at once: each failed service
 * with its reason and its last log lines, then the command that shows the whole log — instead of
 * a "running" headline above a table they have to decode.
 */
import type { CoordinatorClient } from './client';
import { LogsRequest, type ServiceStatus } from '../protocol';
import { failedServices, LogFormatter, serviceWhy } from './serviceOutput';

const TAIL = 10;

export async function describeFailedServices(
  c: CoordinatorClient,
  ws: { name: string; node: string },
  services: readonly ServiceStatus[],
): Promise<string> {
  const failed = failedServices(services);
  const out: string[] = [];
  for (const s of failed) {
    out.push(`error: service ${s.name} of ${ws.name} is ${s.state}: ${serviceWhy(s)}`);
    // The log is a help, not the answer: a node that cannot send it now does not hide the error.
    const lines = await c.request(LogsRequest, { name: ws.name, node: ws.node, service: s.name, tail: TAIL }).then(
      (r) => r.lines,
      () => [],
    );
    const fmt = new LogFormatter(false);
    if (lines.length)
      out.push(
        `its last ${lines.length === 1 ? 'line' : `${lines.length} lines`}:`,
        ...lines.map((l) => `  ${fmt.format(l)}`),
      );
  }
  const names = failed.map((s) => s.name);
  const logs =
    names.length === 1
      ? `\`vendetta workspace logs ${ws.name} ${names[0]}\` shows its whole log`
      : `\`vendetta workspace logs ${ws.name} SERVICE\` shows a service's whole log`;
  out.push(
    `hint: ${logs}; the workspace itself runs (\`vendetta workspace ssh ${ws.name}\`), and \`vendetta workspace up\` starts what failed again once it is fixed.`,
  );
  return out.join('\n') + '\n';
}
