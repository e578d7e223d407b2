/** `vendetta coordinator run|start|stop|status`. */
import type { Command } from 'commander';
import { isCoordinatorAlive, processRunning, readLockPid } from '../daemon/instanceLock';
import { homePaths } from '../home';
import { CoordinatorShutdown, CoordinatorStatusRequest, type CoordinatorStatus } from '../protocol';
import { CoordinatorClient, runAction, startCoordinator } from './client';
import { ExitCode, formatSeconds, printJson, writeOut } from './output';

interface JsonOpts {
  json?: boolean;
  verbose?: boolean;
}

export function registerCoordinatorCommands(program: Command): void {
  const group = program
    .command('coordinator')
    .description('the local coordinator process that the CLI and VS Code talk to (started on demand)');

  group
    .command('run')
    .description('run the coordinator in the foreground (what `start` and auto-start run, detached)')
    .action(async (_opts: unknown, cmd: Command) => {
      await runAction(cmd.optsWithGlobals<JsonOpts>(), async () => {
        // The daemon (ssh2, providers, schemas) loads only here, not for every CLI command.
        const { runCoordinator } = await import('../daemon/run.js');
        await runCoordinator({ logToStderr: process.stderr.isTTY === true });
      });
    });

  group
    .command('start')
    .description('start the coordinator in the background if it is not running')
    .option('--json', 'print the result as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, async () => {
        const paths = homePaths();
        let client = await CoordinatorClient.connect({ paths, autoStart: false });
        const started = client === undefined;
        if (!client) {
          await startCoordinator(paths);
          client = await CoordinatorClient.connect({ paths });
        }
        const { pid, home } = client.info;
        client.dispose();
        if (opts.json) printJson({ running: true, started, pid, home });
        else
          process.stdout.write(
            started ? `coordinator started (pid ${pid})\n` : `coordinator already running (pid ${pid})\n`,
          );
      });
    });

  group
    .command('stop')
    .description('stop the coordinator (node links close; agents and workspaces keep running)')
    .option('--json', 'print the result as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, async () => {
        const result = await stopCoordinator();
        if (opts.json) printJson(result);
        else if (result.stopped) process.stdout.write(`coordinator stopped (pid ${result.pid})\n`);
        else process.stdout.write('coordinator is not running\n');
      });
    });

  group
    .command('status')
    .description('show whether the coordinator runs, its pid, uptime, clients and nodes')
    .option('--json', 'print the result as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, async () => {
        const paths = homePaths();
        const client = await CoordinatorClient.connect({ paths, autoStart: false });
        if (!client) {
          if (opts.json) printJson({ running: false, home: paths.root });
          else process.stdout.write(`coordinator is not running (home ${paths.root})\n`);
          return ExitCode.Ok;
        }
        try {
          const status = await client.request(CoordinatorStatusRequest);
          if (opts.json) printJson({ running: true, ...status });
          else writeOut(formatStatus(status));
        } finally {
          client.dispose();
        }
      });
    });
}

/** Asks the coordinator to stop, then makes sure its pid is gone (SIGTERM if it lingers). */
async function stopCoordinator(): Promise<{ stopped: boolean; pid?: number }> {
  const paths = homePaths();
  const client = await CoordinatorClient.connect({ paths, autoStart: false });
  let pid: number | undefined;
  if (client) {
    pid = client.info.pid;
    await client.request(CoordinatorShutdown).catch(() => undefined);
    client.dispose();
  } else {
    // Not answering; a hung one still holds the lock.
    const holder = readLockPid(paths.lockFile);
    if (holder === undefined || !isCoordinatorAlive(holder)) return { stopped: false };
    pid = holder;
    process.kill(pid, 'SIGTERM');
  }
  if (!(await exited(pid, 10_000))) {
    process.kill(pid, 'SIGTERM');
    if (!(await exited(pid, 5000))) process.kill(pid, 'SIGKILL');
  }
  return { stopped: true, pid };
}

async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processRunning(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

function formatStatus(s: CoordinatorStatus): string {
  const lines = [
    ['pid', String(s.pid)],
    ['version', s.version],
    ['home', s.home],
    ['uptime', formatSeconds(s.uptimeSeconds * 1000)],
    ['clients', String(s.clients)],
    ['nodes', `${s.nodes} (${s.connectedNodes} connected)`],
    ['memory', `${(s.memoryRssBytes / 1024 / 1024).toFixed(1)} MB`],
  ];
  if (s.registryError) {
    const r = s.registryError;
    lines.push(['registry', `${r.file}:${r.line}:${r.col}: ${r.message} (the last good registry is in use)`]);
  }
  const w = Math.max(...lines.map(([k]) => (k ?? '').length));
  return `coordinator is running\n${lines.map(([k, v]) => `  ${(k ?? '').padEnd(w)}  ${v}`).join('\n')}\n`;
}
