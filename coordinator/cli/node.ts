/** `vendetta node add|list|status|test|remove`: thin clients of the coordinator's nodes/* requests. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { toVendettaError, VendettaError } from '../errors';
import {
  AddNode,
  CoordinatorStatusRequest,
  ListNodes,
  NodeStatusRequest,
  TestNode,
  type AddNodeParams,
  type AddNodeResult,
} from '../protocol';
import { CoordinatorClient, runAction, withClient } from './client';
import { formatNodeList, formatNodeStatus, formatTestResult } from './nodeTables';
import { removeNode, type RemoveOpts } from './nodeRemove';
import { askRuntime } from './runtimeOffer';
import { offerProvider, prepareNode, PREPARE_PROVIDERS, type PrepareOpts } from './nodePrepare';
import { ExitCode, printJson, ProgressPrinter, writeOut } from './output';

interface JsonOpts {
  json?: boolean;
  verbose?: boolean;
}

/** commander's options for `node add`: the request's fields, with `install` from --no-install. */
type AddOpts = JsonOpts & Omit<AddNodeParams, 'name' | 'labels' | 'progressToken' | 'install'> & { install: boolean };

const RUNTIME_CHOICES = ['upload', 'package', 'never'] as const;

export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('add, list, check and remove the machines workspaces run on');

  node
    .command('add')
    .description('add a node reachable by SSH: pin its host key, install and start the agent')
    .argument('<name>', 'node name: lowercase letters, digits and "-"')
    .requiredOption('--host <host>', 'host name or IP address of the node')
    .option('--port <port>', 'SSH port (default 22)', parsePort)
    .option('--user <user>', 'SSH user (default: your user name)')
    .option('--identity <file>', 'private key to log in with (default: ssh-agent, else a key vendetta makes)')
    .option('--host-key-fingerprint <fp>', "the SHA256:… fingerprint the node's host key must have")
    .option('--accept-new-host-key', 'trust the host key the node presents (when you cannot check it)')
    .option('--replace-host-key', 're-pin a node whose host key changed on purpose (e.g. reinstalled)')
    .option('--no-install', 'register the node only; do not upload or start the agent now')
    .addOption(
      new Option(
        '--install-runtime <how>',
        "when the node has no Node.js 18+: upload this machine's Node.js (checked for compatibility first), install the distribution's package (root or passwordless sudo), or never (default: ask on a terminal, else fail with the choices)",
      ).choices(RUNTIME_CHOICES),
    )
    .option('--json', 'print the result as JSON')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<AddOpts>();
      await runAction(opts, () => addNode(name, opts));
    });

  node
    .command('list')
    .description('list the nodes and what the coordinator last heard from them (no network)')
    .option('--json', 'print the NodeSummary array as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, () =>
        withClient(async (client) => {
          const nodes = await client.request(ListNodes);
          if (opts.json) return printJson(nodes);
          writeOut(formatNodeList(nodes));
          const { registryError: r } = await client.request(CoordinatorStatusRequest);
          if (r)
            process.stderr.write(
              `warning: ${r.file}:${r.line}:${r.col}: ${r.message} (the last good registry is in use)\n${r.hint ? `hint: ${r.hint}\n` : ''}`,
            );
        }),
      );
    });

  node
    .command('status')
    .description('ask every node (or one) now, in parallel: status, latency, system figures, providers')
    .argument('[name]', 'only this node')
    .option('--json', 'print the NodeStatus array as JSON')
    .action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, () =>
        withClient(async (client) => {
          const nodes = await client.request(NodeStatusRequest, name === undefined ? {} : { name });
          if (opts.json) printJson(nodes);
          else writeOut(formatNodeStatus(nodes));
          return name !== undefined && nodes.some((n) => n.status !== 'online') ? ExitCode.Error : ExitCode.Ok;
        }),
      );
    });

  node
    .command('test')
    .description('diagnose a node step by step: network, SSH, host key, Node.js, agent, providers')
    .argument('<name>', 'node name')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, () =>
        withClient(async (client) => {
          const result = await client.request(TestNode, { name });
          if (opts.json) printJson(result);
          else writeOut(formatTestResult(result));
          return result.ok ? ExitCode.Ok : ExitCode.Error;
        }),
      );
    });

  node
    .command('prepare')
    .description(
      'install a provider on a node with its package manager (root or passwordless sudo), print each command before it runs, then test the node',
    )
    .argument('<name>', 'node name')
    .addOption(
      new Option(
        '--provider <provider>',
        "what to install: docker (the distribution's package); lxc (LXD/Incus, a dir pool and a bridge) and qemu show their commands with --dry-run, and run once this version runs their workspaces",
      )
        .choices(PREPARE_PROVIDERS)
        .makeOptionMandatory(),
    )
    .option('--dry-run', 'print the commands only; change nothing')
    .option('--yes', 'do not ask (needed without a terminal)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts & PrepareOpts>();
      await runAction(opts, () => withClient((client) => prepareNode(client, name, opts)));
    });

  node
    .command('remove')
    .description('forget a node (and unpin its host key)')
    .argument('<name>', 'node name')
    .option(
      '--purge',
      'first remove its workspaces (containers, folders, ssh_config blocks, known_hosts lines), then stop the agent and delete its files there; lists them and asks first',
    )
    .option('--yes', 'with --purge: do not ask (needed without a terminal)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts & RemoveOpts>();
      await runAction(opts, () => removeNode(name, opts));
    });
}

async function addNode(name: string, opts: AddOpts): Promise<number> {
  if (opts.hostKeyFingerprint !== undefined && opts.acceptNewHostKey) {
    throw new VendettaError('INVALID_PARAMS', '--host-key-fingerprint and --accept-new-host-key exclude each other', {
      hint: 'Give the fingerprint when you know it; --accept-new-host-key only when you cannot check it.',
    });
  }
  const params: AddNodeParams = { name, host: opts.host, install: opts.install };
  if (opts.port !== undefined) params.port = opts.port;
  if (opts.user !== undefined) params.user = opts.user;
  if (opts.identity !== undefined) params.identity = expandPath(opts.identity);
  if (opts.hostKeyFingerprint !== undefined) params.hostKeyFingerprint = opts.hostKeyFingerprint;
  if (opts.acceptNewHostKey) params.acceptNewHostKey = true;
  if (opts.replaceHostKey) params.replaceHostKey = true;
  if (opts.installRuntime !== undefined) params.installRuntime = opts.installRuntime;

  return withClient(async (client) => {
    const printer = new ProgressPrinter(!opts.json);
    let result: AddNodeResult | undefined;
    // At most one question of each kind: the host key, then the runtime.
    for (let attempt = 0; !result; attempt++) {
      try {
        result = await addWithProgress(client, params, printer);
      } catch (err) {
        const e = toVendettaError(err);
        const fp = e.details?.fingerprint;
        if (
          attempt < 2 &&
          e.code === 'HOST_KEY_UNCONFIRMED' &&
          typeof fp === 'string' &&
          params.hostKeyFingerprint === undefined &&
          interactive(opts)
        ) {
          if (!(await confirmHostKey(name, e, fp))) {
            throw new VendettaError('HOST_KEY_UNCONFIRMED', `Not added: the host key of ${name} was not confirmed`, {
              hint: e.hint,
              node: name,
            });
          }
          // Exactly the key shown is the one that may be pinned.
          params.hostKeyFingerprint = fp;
          continue;
        }
        if (
          attempt < 2 &&
          e.code === 'NODE_RUNTIME_MISSING' &&
          params.installRuntime === undefined &&
          interactive(opts)
        ) {
          const how = await askRuntime(e);
          if (how) {
            params.installRuntime = how;
            continue;
          }
        }
        throw e;
      }
    }
    if (opts.json) {
      printJson(result);
      return ExitCode.Ok;
    }
    const n = result.node;
    const agent = n.agentVersion ? `, agent ${n.agentVersion} ${n.status}` : ', agent not installed';
    process.stdout.write(
      `added ${n.name} (${n.user}@${n.host}:${n.port}), host key ${result.hostKeyFingerprint}${agent}\n`,
    );
    const rt = result.runtimeInstalled;
    if (rt)
      process.stdout.write(
        rt.how === 'upload'
          ? `uploaded Node.js ${rt.version} for the agent to ${rt.path} (${(rt.ms / 1000).toFixed(1)} s)\n`
          : `installed Node.js ${rt.version} with the node's package manager (${rt.path})\n`,
      );
    if (n.status === 'online') offerProvider(n.name, n.providers);
    if (result.generatedPublicKey) {
      process.stdout.write(
        `vendetta made a key for you: ${result.generatedPublicKey.path}\ninstall it on the node with: ${result.generatedPublicKey.installHint}\n`,
      );
    }
    return ExitCode.Ok;
  });
}

async function addWithProgress(
  client: CoordinatorClient,
  params: AddNodeParams,
  printer: ProgressPrinter,
): Promise<AddNodeResult> {
  const progressToken = randomUUID();
  client.onProgress(progressToken, (p) => printer.step(p.step, p.total, p.message));
  try {
    return await client.request(AddNode, { ...params, progressToken });
  } finally {
    printer.finish();
  }
}

function interactive(opts: AddOpts): boolean {
  return !opts.json && process.stdin.isTTY === true && process.stderr.isTTY === true;
}

async function confirmHostKey(name: string, e: VendettaError, fingerprint: string): Promise<boolean> {
  const d = e.details ?? {};
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    process.stderr.write(
      `The host key of ${String(d.host)}:${String(d.port)} (${String(d.keyType)}) is\n  ${fingerprint}\n` +
        (typeof d.pinnedFingerprint === 'string' ? `replacing the pinned key\n  ${d.pinnedFingerprint}\n` : '') +
        'Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the node.\n',
    );
    const answer = await rl.question(`Trust this key and add ${name}? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535)
    throw new InvalidArgumentError('a port is a whole number from 1 to 65535');
  return n;
}

function expandPath(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return resolve(p);
}
