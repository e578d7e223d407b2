/**
 * `vendetta workspace ports|forward|logs` (and `restart`, in restart.ts): the services of a workspace as its node runs them.
 * `forward` and `logs -f` stay up until Ctrl-C (SIGINT or SIGTERM), then end what they started
 * and exit 0.
 */
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { VendettaError } from '../errors';
import {
  ForwardPortRequest,
  ForwardRefused,
  ListForwardsRequest,
  ListPortsRequest,
  LogLinesNotification,
  LogsRequest,
  UnfollowLogsRequest,
  UnforwardPortRequest,
  type LogsParams,
  type ServiceLogLine,
} from '../protocol';
import { parsePortMapping, parseSince } from '../services/parse';
import { runAction, withClient, type CoordinatorClient } from './client';
import { registerRestartCommand } from './restart';
import { ExitCode, printJson, writeErr, writeOut } from './output';
import { forwardLine, formatForwards, formatPorts, LogFormatter } from './serviceOutput';
import { jsonText } from './terminalText';

interface Opts {
  json?: boolean;
  verbose?: boolean;
  node?: string;
}

export function registerServiceCommands(ws: Command): void {
  registerRestartCommand(ws);
  ws.command('ports')
    .description('the service ports of a workspace: inside, on the node, health, and where to reach them')
    .argument('<workspace>', 'workspace name')
    .option('--node <node>', 'the node, when the name is on several')
    .option('--json', 'print the PortInfo array as JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Opts>();
      await runAction(opts, () =>
        withClient(async (c) => {
          const rows = await c.request(ListPortsRequest, ref(name, opts));
          if (opts.json) printJson(rows);
          else writeOut(formatPorts(rows));
        }),
      );
    });

  ws.command('forward')
    .description(
      "forward a service port to 127.0.0.1 here, over the node's connection, until Ctrl-C; --stop ends a forward",
    )
    .argument('<workspace>', 'workspace name')
    .argument('<port>', 'PORT[:LOCALPORT]: the service port, and the port here (default: the same if free, else any)')
    .option('--node <node>', 'the node, when the name is on several')
    .option('--stop', 'end the forward of this port (one `up --forward` made, or one another terminal holds)')
    .option('--json', 'print the ForwardInfo as JSON once forwarding')
    .action(async (name: string, mapping: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Opts & { stop?: boolean }>();
      await runAction(opts, () => (opts.stop ? stopForward(name, mapping, opts) : forward(name, mapping, opts)));
    });

  ws.command('forwards')
    .description('the ports forwarded to 127.0.0.1 here, and how long each stays')
    .argument('[workspace]', 'only this workspace')
    .option('--json', 'print the ForwardInfo array as JSON')
    .action(async (name: string | undefined, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Opts>();
      await runAction(opts, () =>
        withClient(async (c) => {
          const rows = (await c.request(ListForwardsRequest, {})).filter(
            (f) => name === undefined || f.workspace === name,
          );
          if (opts.json) printJson(rows);
          else process.stdout.write(formatForwards(rows));
        }),
      );
    });

  ws.command('logs')
    .description('service logs (all services interleaved and labelled, or one); -f keeps streaming until Ctrl-C')
    .argument('<workspace>', 'workspace name')
    .argument(
      '[service]',
      'one service (or a lifecycle hook: onCreate, updateContent, postCreate, postStart, postAttach)',
    )
    .option('--node <node>', 'the node, when the name is on several')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('--tail <n>', 'only the last N lines')
    .option('--since <when>', 'only lines since a duration ago (30s, 5m, 2h) or a time (ISO 8601)')
    .option('--json', 'print one JSON object per line')
    .action(async (name: string, service: string | undefined, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Opts & { follow?: boolean; tail?: string; since?: string }>();
      await runAction(opts, () => logs(name, service, opts));
    });
}

function ref(name: string, opts: Opts): { name: string; node?: string } {
  return opts.node ? { name, node: opts.node } : { name };
}

/** Resolves on SIGINT/SIGTERM; rejects when the coordinator goes away first. */
function untilStopped(c: CoordinatorClient): Promise<string> {
  let onSignal: ((sig: NodeJS.Signals) => void) | undefined;
  const signalled = new Promise<string>((resolve) => {
    onSignal = (sig) => resolve(sig);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return Promise.race([signalled, c.lostConnection]).finally(() => {
    process.off('SIGINT', onSignal!);
    process.off('SIGTERM', onSignal!);
  });
}

async function forward(name: string, mapping: string, opts: Opts): Promise<number> {
  const { port, localPort } = parsePortMapping(mapping);
  return withClient(async (c) => {
    const mine = (f: { workspace: string; node: string; port: number }) =>
      f.workspace === name && f.port === port && (!opts.node || f.node === opts.node);
    const existed = (await c.request(ListForwardsRequest, {})).some(mine);
    // A connection the coordinator would not carry (the workspace stopped, say) is said here, where someone watches.
    c.onNotification(ForwardRefused, (r) => {
      if (!mine(r)) return;
      if (opts.json) process.stderr.write(`${jsonText({ refused: r })}\n`);
      else writeErr(`error: ${r.error.message}\n${r.error.hint ? `hint: ${r.error.hint}\n` : ''}`);
    });
    const info = await c.request(ForwardPortRequest, {
      ...ref(name, opts),
      port,
      ...(localPort ? { localPort } : {}),
      untilDisconnect: true,
    });
    if (opts.json) printJson(info);
    else {
      // Without a LOCALPORT the same number is tried first; say so when it was taken here.
      const moved =
        !existed && !localPort && info.localPort !== port
          ? `port ${port} is taken on this machine, so it is forwarded from ${info.localPort} instead\n`
          : '';
      process.stdout.write(
        `${moved}${forwardLine(info)}${existed ? ' (already forwarded)' : ''}\nPress Ctrl-C to stop.\n`,
      );
    }
    await untilStopped(c);
    // The coordinator ends it on disconnect too; asked here so it is gone before this exits.
    if (!existed)
      await c
        .request(UnforwardPortRequest, { workspace: info.workspace, node: info.node, port: info.port })
        .catch(() => undefined);
    return ExitCode.Ok;
  });
}

async function stopForward(name: string, mapping: string, opts: Opts): Promise<number> {
  const { port } = parsePortMapping(mapping);
  return withClient(async (c) => {
    const r = await c.request(UnforwardPortRequest, {
      workspace: name,
      port,
      ...(opts.node ? { node: opts.node } : {}),
    });
    if (!r.stopped) {
      throw new VendettaError('WORKSPACE_STATE', `Port ${port} of ${name} is not forwarded`, {
        hint: '`vendetta workspace forwards` lists the forwards.',
      });
    }
    if (opts.json) printJson(r);
    else process.stdout.write(`stopped forwarding ${name}:${port}\n`);
    return ExitCode.Ok;
  });
}

async function logs(
  name: string,
  service: string | undefined,
  opts: Opts & { follow?: boolean; tail?: string; since?: string },
): Promise<number> {
  const params: LogsParams = ref(name, opts);
  if (service) params.service = service;
  if (opts.tail !== undefined) {
    if (!/^\d{1,7}$/.test(opts.tail))
      throw new VendettaError('INVALID_PARAMS', `Invalid --tail: ${JSON.stringify(opts.tail)}`, {
        hint: 'Give a whole number of lines, e.g. --tail 100.',
      });
    params.tail = Number(opts.tail);
  }
  if (opts.since !== undefined) {
    parseSince(opts.since);
    params.since = opts.since;
  }
  const fmt = new LogFormatter(!service);
  const print = (lines: readonly ServiceLogLine[]) => {
    const text = lines.map((l) => (opts.json ? jsonText(l) : fmt.format(l))).join('\n');
    if (text) process.stdout.write(`${text}\n`);
  };
  return withClient(async (c) => {
    if (!opts.follow) {
      print((await c.request(LogsRequest, params)).lines);
      return ExitCode.Ok;
    }
    const followToken = randomUUID();
    // Lines that arrive before the first answer is printed wait for it, so the order holds.
    let queue: ServiceLogLine[][] | undefined = [];
    c.onNotification(LogLinesNotification, (p) => {
      if (p.followToken !== followToken) return;
      if (queue) queue.push(p.lines);
      else print(p.lines);
    });
    const first = await c.request(LogsRequest, { ...params, follow: true, followToken });
    print(first.lines);
    for (const batch of queue) print(batch);
    queue = undefined;
    await untilStopped(c);
    await c.request(UnfollowLogsRequest, { followToken }).catch(() => undefined);
    return ExitCode.Ok;
  });
}
