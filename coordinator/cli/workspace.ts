/**
 * `vendetta workspace up|list|status|start|stop|rm|exec|ssh`, and the `vendetta up` / `down`
 * shortcuts for the current folder: thin clients of the coordinator's workspaces/* requests.
 */
import { Option, type Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { RUNNABLE_PROVIDERS } from '../../agent/protocol';
import { VendettaError } from '../errors';
import { trustedHomePaths } from '../homeTrust';
import {
  ListWorkspacesRequest,
  RemoveWorkspaceRequest,
  StartWorkspaceRequest,
  StopWorkspaceRequest,
  WorkspaceStatusRequest,
  WorkspaceUp,
  type WorkspaceProvider,
  type WorkspaceUpParams,
} from '../protocol';
import { runAction, withClient } from './client';
import { checkConfigBeforeUp } from './config';
import { ExitCode, printJson, ProgressPrinter, writeOut } from './output';
import { registerServiceCommands } from './services';
import { anyServiceFailed } from './serviceOutput';
import { formatStatus, formatUp, formatWorkspaceList } from './workspaceOutput';

interface JsonOpts {
  json?: boolean;
  verbose?: boolean;
}

interface UpOpts extends JsonOpts {
  node?: string;
  provider?: WorkspaceProvider;
  name?: string;
  git?: string;
  forward?: boolean;
  recreate?: boolean;
}

const RECREATE_HELP = 'make the container again from the config when it no longer matches it (keeps the workspace folder; anything outside it is lost)';

interface RefOpts extends JsonOpts {
  node?: string;
}

const providerOption = () => new Option('--provider <provider>', `the provider (default: the config's; available: ${RUNNABLE_PROVIDERS.join(', ')})`).choices(RUNNABLE_PROVIDERS);

export function registerWorkspaceCommands(program: Command): void {
  const ws = program.command('workspace').description('create, list, start, stop and remove workspaces on nodes');

  ws.command('up')
    .description('create (or start) the workspace of a project folder and send its code; again: only what changed')
    .argument('[path]', 'project folder (default: the current folder)')
    .option('--node <node>', 'node to run it on (default: the config\'s node, else local)')
    .addOption(providerOption())
    .option('--name <name>', 'workspace name (default: the config\'s name)')
    .option('--git <url>', 'clone URL[#REF] inside the workspace instead of sending the folder')
    .option('--forward', 'also forward the config\'s forwardPorts to 127.0.0.1 here (until `workspace rm`)')
    .option('--recreate', RECREATE_HELP)
    .option('--json', 'print the result as JSON')
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
      await runAction(opts, () => withClient(async (c) => {
        const rows = await c.request(ListWorkspacesRequest, {});
        if (opts.json) printJson(rows);
        else writeOut(formatWorkspaceList(rows));
      }));
    });

  ws.command('status')
    .description('one workspace in detail: state, image, sshd, pinned host key, services')
    .argument('<workspace>', 'workspace name')
    .option('--node <node>', 'the node, when the name is on several')
    .option('--json', 'print the WorkspaceStatus as JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RefOpts>();
      await runAction(opts, () => withClient(async (c) => {
        const s = await c.request(WorkspaceStatusRequest, ref(name, opts));
        if (opts.json) printJson(s);
        else writeOut(formatStatus(s));
        return s.state === 'running' ? ExitCode.Ok : ExitCode.Error;
      }));
    });

  for (const [verb, type, done] of [['start', StartWorkspaceRequest, 'started'], ['stop', StopWorkspaceRequest, 'stopped']] as const) {
    ws.command(verb)
      .description(`${verb} a workspace (its files stay)`)
      .argument('<workspace>', 'workspace name')
      .option('--node <node>', 'the node, when the name is on several')
      .option('--json', 'print the WorkspaceSummary as JSON')
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const opts = cmd.optsWithGlobals<RefOpts>();
        await runAction(opts, () => withClient(async (c) => {
          const s = await c.request(type, ref(name, opts));
          if (opts.json) printJson(s);
          else process.stdout.write(`${done} ${s.name} on ${s.node} (${s.state})\n`);
        }));
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
      await runAction(opts, () => withClient(async (c) => {
        const r = await c.request(RemoveWorkspaceRequest, { ...ref(name, opts), ...(opts.force ? { force: true } : {}) });
        if (opts.json) printJson(r);
        else process.stdout.write(`removed ${r.name} from ${r.node}\n`);
      }));
    });

  ws.command('exec')
    .description('run a command in a workspace (argv as given, no shell unless you write `sh -c`); exits with its code')
    .argument('<workspace>', 'workspace name')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--node <node>', 'the node, when the name is on several')
    .option('-t, --tty', 'give the command a terminal')
    .action(async (name: string, argv: string[], _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RefOpts & { tty?: boolean }>();
      const { execInWorkspace } = await import('./workspaceExec.js');
      await runAction(opts, () => execInWorkspace(name, argv, { ...(opts.node ? { node: opts.node } : {}), ...(opts.tty ? { tty: true } : {}) }));
    });

  ws.command('ssh')
    .description('open a shell in a workspace (or run a command) with OpenSSH and the generated ssh_config')
    .argument('<workspace>', 'workspace name')
    .argument('[command...]', 'a command to run instead of a shell, after --')
    .option('--node <node>', 'the node, when the name is on several')
    .action(async (name: string, argv: string[], _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RefOpts>();
      await runAction(opts, async () => {
        const { aliasFor, sshIntoWorkspace } = await import('./workspaceExec.js');
        const paths = trustedHomePaths();
        return sshIntoWorkspace(paths, aliasFor(paths, name, opts.node), argv);
      });
    });

  program.command('up')
    .description('shortcut: `vendetta workspace up` for the current folder (or PATH)')
    .argument('[path]', 'project folder (default: the current folder)')
    .option('--node <node>', 'node to run it on')
    .addOption(providerOption())
    .option('--name <name>', 'workspace name')
    .option('--forward', 'also forward the config\'s forwardPorts to 127.0.0.1 here')
    .option('--recreate', RECREATE_HELP)
    .option('--json', 'print the result as JSON')
    .action(async (path: string | undefined, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<UpOpts>();
      await runAction(opts, () => up(path, opts));
    });

  program.command('down')
    .description('shortcut: stop the workspace made from the current folder (or PATH)')
    .argument('[path]', 'project folder (default: the current folder)')
    .option('--json', 'print the result as JSON')
    .action(async (path: string | undefined, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, () => withClient(async (c) => {
        const dir = resolve(path ?? '.');
        const mine = (await c.request(ListWorkspacesRequest, {})).filter((w) => w.projectPath === dir);
        if (mine.length === 0) {
          throw new VendettaError('WORKSPACE_NOT_FOUND', `No workspace was made from ${dir}`, { hint: '`vendetta workspace list` shows the workspaces and their folders.' });
        }
        const stopped = [];
        for (const w of mine) stopped.push(await c.request(StopWorkspaceRequest, { name: w.name, node: w.node }));
        if (opts.json) printJson(stopped);
        else for (const s of stopped) process.stdout.write(`stopped ${s.name} on ${s.node}\n`);
      }));
    });
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
  await checkConfigBeforeUp(params.path);
  return withClient(async (c) => {
    const printer = new ProgressPrinter(!opts.json);
    const progressToken = randomUUID();
    c.onProgress(progressToken, (p) => printer.step(p.step, p.total, p.message));
    let result;
    try {
      result = await c.request(WorkspaceUp, { ...params, progressToken });
    } finally {
      printer.finish();
    }
    if (opts.json) printJson(result);
    else writeOut(formatUp(result));
    return result.services && anyServiceFailed(result.services) ? ExitCode.Error : ExitCode.Ok;
  });
}
