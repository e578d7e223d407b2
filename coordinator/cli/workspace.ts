/**
 * `vendetta workspace up|list|status|start|stop|rm|resolve|exec|ssh`, and the `vendetta up` / `down`
 * shortcuts for the current folder: thin clients of the coordinator's workspaces/* requests.
 */
import { Option, type Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { resolve } from 'node:path';
import { RUNNABLE_PROVIDERS } from '../../agent/protocol';
import { VendettaError } from '../errors';
import { trustedHomePaths } from '../homeTrust';
import {
  ListWorkspacesRequest,
  RemoveWorkspaceRequest,
  ResolveConflictRequest,
  StartWorkspaceRequest,
  StopWorkspaceRequest,
  WorkspaceStatusRequest,
  localEnvOf,
  WorkspaceUp,
  type WorkspaceStartResult,
  type WorkspaceUpParams,
} from '../protocol';
import { runAction, withClient } from './client';
import { checkConfigBeforeUp } from './config';
import { addDotfilesOptions, dotfilesParam, type DotfilesOpts } from './dotfilesOptions';
import { ExitCode, printJson, ProgressPrinter, reportError, writeErr, writeOut } from './output';
import { registerServiceCommands } from './services';
import { describeFailedServices } from './failedServices';
import { anyServiceFailed, formatServices } from './serviceOutput';
import { exitWhenFlushed } from '../../common/process/exitWhenFlushed';
import { formatStatus, formatUp, formatUpWarnings, formatWorkspaceList } from './workspaceOutput';

interface JsonOpts {
  json?: boolean;
  verbose?: boolean;
}

/** The flags of `workspace up` are the request's own fields. */
type UpOpts = JsonOpts &
  DotfilesOpts &
  Pick<WorkspaceUpParams, 'node' | 'provider' | 'name' | 'git' | 'forward' | 'recreate' | 'overwrite' | 'config'>;

const RECREATE_HELP =
  'make the container again from the config when it no longer matches it (keeps the workspace folder; anything outside it is lost)';

interface RefOpts extends JsonOpts {
  node?: string;
}

const providerOption = () =>
  new Option(
    '--provider <provider>',
    `the provider (default: the config's; available: ${RUNNABLE_PROVIDERS.join(', ')})`,
  ).choices(RUNNABLE_PROVIDERS);

const UP_JSON_HELP = 'print the result as JSON; what went wrong without failing the up is in its `warnings`';

const CONFIG_HELP = 'the config file to use when the project has several (e.g. .devcontainer/python/devcontainer.json)';

export function registerWorkspaceCommands(program: Command): void {
  const ws = program.command('workspace').description('create, list, start, stop and remove workspaces on nodes');

  addDotfilesOptions(
    ws
      .command('up')
      .description('create (or start) the workspace of a project folder and send its code; again: only what changed')
      .argument('[path]', 'project folder (default: the current folder)')
      .option('--node <node>', "node to run it on (default: the config's node, else local)")
      .addOption(providerOption())
      .option('--name <name>', "workspace name (default: the config's name)")
      .option('--git <url>', 'clone URL[#REF] inside the workspace instead of sending the folder')
      .option(
        '--forward',
        "also forward the config's forwardPorts to 127.0.0.1 here (kept, also across coordinator restarts, until `workspace forward --stop` or `workspace rm`)",
      )
      .option('--recreate', RECREATE_HELP)
      .option(
        '--overwrite',
        "send this folder's version even over files changed inside the workspace (listed as replaced)",
      )
      .option('--config <file>', CONFIG_HELP),
  )
    .option('--json', UP_JSON_HELP)
    .action(async (path: string | undefined, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<UpOpts>();
      await runAction(opts, () => up(path, opts));
    });

  registerServiceCommands(ws);

  ws.command('list')
    .description('list the workspaces and what their nodes say about them now')
    .option('--json', 'print the WorkspaceSummary array as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, () =>
        withClient(async (c) => {
          const rows = await c.request(ListWorkspacesRequest, {});
          if (opts.json) printJson(rows);
          else writeOut(formatWorkspaceList(rows));
        }),
      );
    });

  ws.command('status')
    .description('one workspace in detail: state, image, sshd, pinned host key, services')
    .argument('<workspace>', 'workspace name')
    .option('--node <node>', 'the node, when the name is on several')
    .option('--json', 'print the WorkspaceStatus as JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RefOpts>();
      await runAction(opts, () =>
        withClient(async (c) => {
          const s = await c.request(WorkspaceStatusRequest, ref(name, opts));
          if (opts.json) printJson(s);
          else writeOut(formatStatus(s));
          return s.state === 'running' ? ExitCode.Ok : ExitCode.Error;
        }),
      );
    });

  for (const [verb, type, done, expected] of [
    ['start', StartWorkspaceRequest, 'started', 'running'],
    ['stop', StopWorkspaceRequest, 'stopped', 'stopped'],
  ] as const) {
    ws.command(verb)
      .description(`${verb} a workspace (its files stay)`)
      .argument('<workspace>', 'workspace name')
      .option('--node <node>', 'the node, when the name is on several')
      .option('--json', 'print the WorkspaceSummary as JSON')
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const opts = cmd.optsWithGlobals<RefOpts>();
        await runAction(opts, () =>
          withClient(async (c) => {
            const s = await c.request(type, ref(name, opts));
            if (opts.json) printJson(s);
            else
              process.stdout.write(
                `${done} ${s.name} on ${s.node}${s.state === expected ? '' : ` (it is ${s.state} now)`}\n`,
              );
            // `start` answers once the services are behind their checks: say how they stand.
            const services = (s as WorkspaceStartResult).services;
            if (!services) return ExitCode.Ok;
            if (!opts.json) writeOut('\n' + formatServices(services));
            if (!anyServiceFailed(services)) return ExitCode.Ok;
            if (!opts.json) writeErr(await describeFailedServices(c, s, services));
            return ExitCode.Error;
          }),
        );
      });
  }

  ws.command('rm')
    .alias('remove')
    .description('remove a workspace: its container, its folder on the node, its ssh_config block and pinned key')
    .argument('<workspace>', 'workspace name')
    .option('--node <node>', 'the node, when the name is on several')
    .option('--force', 'remove it even while it runs')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RefOpts & { force?: boolean }>();
      await runAction(opts, () =>
        withClient(async (c) => {
          const r = await c.request(RemoveWorkspaceRequest, {
            ...ref(name, opts),
            ...(opts.force ? { force: true } : {}),
          });
          if (opts.json) printJson(r);
          else process.stdout.write(`removed ${r.name} from ${r.node}\n`);
        }),
      );
    });

  ws.command('resolve')
    .description(
      "settle a sync conflict `up` reported: send this folder's version of the file, or keep the workspace's",
    )
    .argument('<workspace>', 'workspace name')
    .argument('<path>', 'the file, as `up` listed it (relative to the project folder)')
    .addOption(
      new Option(
        '--take <side>',
        "local: send this folder's version; workspace: keep the workspace's (no longer reported)",
      )
        .choices(['local', 'workspace'])
        .makeOptionMandatory(),
    )
    .option('--node <node>', 'the node, when the name is on several')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, path: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RefOpts & { take: 'local' | 'workspace' }>();
      await runAction(opts, () =>
        withClient(async (c) => {
          const r = await c.request(ResolveConflictRequest, { ...ref(name, opts), path, take: opts.take });
          if (opts.json) printJson(r);
          else
            process.stdout.write(
              r.take === 'local'
                ? `sent this folder's version of ${r.path}\n`
                : `kept the workspace's version of ${r.path}\n`,
            );
        }),
      );
    });

  ws.command('exec')
    .description('run a command in a workspace (argv as given, no shell unless you write `sh -c`); exits with its code')
    .argument('<workspace>', 'workspace name')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--node <node>', 'the node, when the name is on several')
    .option('-t, --tty', 'give the command a terminal')
    .configureOutput({ outputError: (str, write) => write(str + dashesHint('exec', str)) })
    .action(async (name: string, argv: string[], _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RefOpts & { tty?: boolean }>();
      const { execInWorkspace } = await import('./workspaceExec.js');
      await runAction(opts, () =>
        execInWorkspace(name, argv, { ...(opts.node ? { node: opts.node } : {}), ...(opts.tty ? { tty: true } : {}) }),
      );
    });

  ws.command('ssh')
    .description('open a shell in a workspace (or run a command) with OpenSSH and the generated ssh_config')
    .argument('<workspace>', 'workspace name')
    .argument('[command...]', 'a command to run instead of a shell, after --')
    .option('--node <node>', 'the node, when the name is on several')
    .configureOutput({ outputError: (str, write) => write(str + dashesHint('ssh', str)) })
    .action(async (name: string, argv: string[], _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RefOpts>();
      await runAction(opts, async () => {
        const { aliasFor, sshIntoWorkspace } = await import('./workspaceExec.js');
        const paths = trustedHomePaths();
        return sshIntoWorkspace(paths, aliasFor(paths, name, opts.node), argv);
      });
    });

  addDotfilesOptions(
    program
      .command('up')
      .description('shortcut: `vendetta workspace up` for the current folder (or PATH)')
      .argument('[path]', 'project folder (default: the current folder)')
      .option('--node <node>', 'node to run it on')
      .addOption(providerOption())
      .option('--name <name>', 'workspace name')
      .option(
        '--forward',
        "also forward the config's forwardPorts to 127.0.0.1 here (kept until `workspace forward --stop` or `workspace rm`)",
      )
      .option('--recreate', RECREATE_HELP)
      .option('--overwrite', "send this folder's version even over files changed inside the workspace")
      .option('--config <file>', CONFIG_HELP),
  )
    .option('--json', UP_JSON_HELP)
    .action(async (path: string | undefined, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<UpOpts>();
      await runAction(opts, () => up(path, opts));
    });

  program
    .command('down')
    .description('shortcut: stop the workspace made from the current folder (or PATH)')
    .argument('[path]', 'project folder (default: the current folder)')
    .option('--name <name>', 'the workspace, when several were made from the folder (`up --name`)')
    .option('--json', 'print the result as JSON')
    .action(async (path: string | undefined, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts & { name?: string }>();
      await runAction(opts, () =>
        withClient(async (c) => {
          const dir = resolve(path ?? '.');
          const made = (await c.request(ListWorkspacesRequest, {})).filter((w) => w.projectPath === dir);
          const mine = made.filter((w) => opts.name === undefined || w.name === opts.name);
          if (mine.length === 0) {
            throw new VendettaError(
              'WORKSPACE_NOT_FOUND',
              `No workspace${opts.name ? ` named ${opts.name}` : ''} was made from ${dir}`,
              {
                hint: made.length
                  ? `The workspaces made from it: ${made.map((w) => w.name).join(', ')}.`
                  : '`vendetta workspace list` shows the workspaces and their folders.',
              },
            );
          }
          if (mine.length > 1) {
            // Stopping all of them was a surprise to whoever meant one.
            throw new VendettaError(
              'WORKSPACE_AMBIGUOUS',
              `${mine.length} workspaces were made from ${dir}: ${mine.map((w) => `${w.name} (${w.node})`).join(', ')}`,
              {
                hint: `Say which with --name, e.g. \`vendetta down --name ${mine[0]!.name}\`.`,
              },
            );
          }
          const s = await c.request(StopWorkspaceRequest, { name: mine[0]!.name, node: mine[0]!.node });
          if (opts.json) printJson([s]);
          else
            process.stdout.write(
              `stopped ${s.name} on ${s.node}${s.state === 'stopped' ? '' : ` (it is ${s.state} now)`}\n`,
            );
        }),
      );
    });
}

/**
 * `workspace ssh WS uname -a` reads `-a` as an option of vendetta's: say to put the command after
 * `--`, shown with the words the user typed.
 */
export function dashesHint(verb: 'ssh' | 'exec', error: string, argv: readonly string[] = process.argv): string {
  if (!/unknown option/.test(error)) return '';
  const words = argv.slice(argv.indexOf(verb) + 1);
  let at = 0;
  while (at < words.length && words[at]!.startsWith('-')) at += words[at] === '--node' ? 2 : 1;
  const fixed = [...words.slice(0, at + 1), '--', ...words.slice(at + 1)];
  return `hint: the command's own options go after \`--\`: \`vendetta workspace ${verb} ${fixed.join(' ')}\`\n`;
}

function ref(name: string, opts: RefOpts): { name: string; node?: string } {
  return opts.node ? { name, node: opts.node } : { name };
}

async function up(path: string | undefined, opts: UpOpts): Promise<number> {
  const params: WorkspaceUpParams = { path: resolve(path ?? '.') };
  if (opts.node) params.node = opts.node;
  if (opts.provider) params.provider = opts.provider;
  if (opts.name) params.name = opts.name;
  if (opts.git) params.git = opts.git;
  if (opts.forward) params.forward = true;
  if (opts.recreate) params.recreate = true;
  if (opts.overwrite) params.overwrite = true;
  if (opts.config) params.config = resolve(opts.config);
  const dotfiles = dotfilesParam(opts);
  if (dotfiles) params.dotfiles = dotfiles;
  params.localEnv = localEnvOf(process.env);
  await checkConfigBeforeUp(params.config ?? params.path);
  return withClient(async (c) => {
    const printer = new ProgressPrinter(!opts.json);
    const progressToken = randomUUID();
    let at = 'its start';
    c.onProgress(progressToken, (p) => {
      printer.step(p.step, p.total, p.message);
      at = `step ${p.step}/${p.total} (${p.message})`;
    });
    // Ctrl-C: the coordinator stops at the next step and says what was left; a second one leaves now.
    const cancel = new CancellationTokenSource();
    let interrupted = false;
    const onInterrupt = () => {
      if (interrupted) {
        printer.finish();
        writeErr(
          `left during ${at}; the workspace stays as it is (\`vendetta workspace list\` marks it unfinished), and \`vendetta up ${params.path}\` finishes it\n`,
        );
        exitWhenFlushed(130);
      }
      interrupted = true;
      printer.finish();
      process.stderr.write('interrupted: the up stops after its current step (Ctrl-C again leaves at once)\n');
      cancel.cancel();
    };
    process.on('SIGINT', onInterrupt);
    let result;
    try {
      result = await c.request(WorkspaceUp, { ...params, progressToken }, cancel.token);
    } catch (err) {
      if (!interrupted) throw err;
      reportError(err, opts);
      return 130;
    } finally {
      process.off('SIGINT', onInterrupt);
      printer.finish();
    }
    const failed = result.services !== undefined && anyServiceFailed(result.services);
    if (opts.json) printJson(result);
    else if (failed) {
      // Not "is running": what failed and why comes first.
      writeOut(formatServices(result.services!));
      writeErr(await describeFailedServices(c, result, result.services!));
    } else writeOut(formatUp(result));
    // On stderr in both modes, as the config's warnings are: --json has them in `warnings` too.
    writeErr(formatUpWarnings(result.warnings));
    return failed ? ExitCode.Error : ExitCode.Ok;
  });
}
