/**
 * `vendetta workspace restart WS [SERVICE…]`: restart every service (hooks first, as a start
 * does) or the named ones (each with whatever it depends on that is not running), then wait, as
 * `up` does, until they are behind their checks, and say how they stand.
 */
import type { Command } from 'commander';
import { ListServicesRequest, StartServicesRequest, type WorkspaceServices } from '../protocol';
import { servicesSettled } from '../workspaces/upServices';
import { runAction, withClient } from './client';
import { describeFailedServices } from './failedServices';
import { ExitCode, printJson, writeErr, writeOut } from './output';
import { anyServiceFailed, formatServices } from './serviceOutput';

const MAX_WAIT_MS = 10 * 60_000;

interface Opts {
  json?: boolean;
  verbose?: boolean;
  node?: string;
}

export function registerRestartCommand(ws: Command): void {
  ws.command('restart')
    .description(
      'restart the services of a workspace (all, or the ones named) and wait until they are behind their checks',
    )
    .argument('<workspace>', 'workspace name')
    .argument('[services...]', 'the services to restart (default: all)')
    .option('--node <node>', 'the node, when the name is on several')
    .option('--json', 'print the services as JSON')
    .action(async (name: string, services: string[], _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Opts>();
      await runAction(opts, () => restart(name, services, opts));
    });
}

async function restart(name: string, services: readonly string[], opts: Opts): Promise<number> {
  const ref = opts.node ? { name, node: opts.node } : { name };
  return withClient(async (c) => {
    let now: WorkspaceServices | undefined;
    if (services.length === 0) now = await c.request(StartServicesRequest, ref);
    for (const service of services) now = await c.request(StartServicesRequest, { ...ref, service });
    const deadline = Date.now() + MAX_WAIT_MS;
    while (now && !servicesSettled(now.services) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      now = await c.request(ListServicesRequest, ref);
    }
    if (!now) return ExitCode.Ok;
    if (opts.json) printJson(now);
    else writeOut(formatServices(now.services));
    if (!anyServiceFailed(now.services)) return ExitCode.Ok;
    if (!opts.json) writeErr(await describeFailedServices(c, now, now.services));
    return ExitCode.Error;
  });
}
