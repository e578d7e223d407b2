/**
 * `vendetta node prepare NODE --provider docker|lxc|qemu`: shows the exact commands, asks (or takes
 * --yes), runs them on the node printing each before it runs, then shows `node test`. `--dry-run`
 * prints the plan only. Also the offer at the end of `node add` when the node has no provider.
 */
import { randomUUID } from 'node:crypto';
import { VendettaError } from '../errors';
import { PrepareNode, type NodeProviders, type PrepareNodeResult, type PrepareProvider } from '../protocol';
import type { CoordinatorClient } from './client';
import { formatTestResult } from './nodeTables';
import { ExitCode, printJson, writeErr, writeOut } from './output';
import { confirm } from './prompt';

export const PREPARE_PROVIDERS = ['docker', 'lxc', 'qemu'] as const;

export interface PrepareOpts {
  provider: PrepareProvider;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

/** The plan as a person reads it. */
export function formatPlan(r: PrepareNodeResult): string {
  const lines = [`${r.dryRun ? 'Would prepare' : 'Prepared'} ${r.name} for ${r.provider}: ${r.system}`];
  r.steps.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${s.title}${s.status === 'skipped' ? ' (skipped: already done)' : ''}`);
    lines.push(`     $ ${s.command.split('\n').join('\n       ')}`);
    if (s.warning) lines.push(`     note: ${s.warning}`);
  });
  if (r.adminCommands)
    lines.push(
      `${r.name}: these need root, and the SSH user cannot become root without a password (no passwordless sudo); an administrator would run, as root:`,
      ...r.adminCommands.map((c) => `  ${c.split('\n').join('\n  ')}`),
    );
  return lines.join('\n') + '\n';
}

function interactive(json?: boolean): boolean {
  return !json && process.stdin.isTTY === true && process.stderr.isTTY === true;
}

async function request(
  client: CoordinatorClient,
  name: string,
  provider: PrepareProvider,
  dryRun: boolean,
  onStep?: (line: string) => void,
): Promise<PrepareNodeResult> {
  const progressToken = randomUUID();
  if (onStep) client.onProgress(progressToken, (p) => onStep(`[${p.step}/${p.total}] ${p.message}\n`));
  return client.request(PrepareNode, { name, provider, dryRun, progressToken });
}

export async function prepareNode(client: CoordinatorClient, name: string, opts: PrepareOpts): Promise<number> {
  const plan = await request(client, name, opts.provider, true);
  if (opts.dryRun) {
    if (opts.json) printJson(plan);
    else writeOut(formatPlan(plan));
    return ExitCode.Ok;
  }
  // Without a way to root the coordinator refuses before the first step, listing the admin's commands.
  if (plan.privilege !== 'none' && !opts.yes) {
    if (!interactive(opts.json)) {
      throw new VendettaError(
        'INVALID_PARAMS',
        `node prepare installs software on ${name}; it needs --yes when there is no terminal to ask on`,
        {
          node: name,
          hint: `See what it would run with \`vendetta node prepare ${name} --provider ${opts.provider} --dry-run\`, then add --yes.`,
        },
      );
    }
    writeErr(formatPlan(plan));
    if (!(await confirm(`Run these ${plan.steps.length} steps on ${name}? [y/N] `))) {
      throw new VendettaError('CANCELLED', `Nothing was changed on ${name}`, {
        node: name,
        hint: 'Run it again and answer y, or pass --yes.',
      });
    }
  }
  const done = await request(client, name, opts.provider, false, opts.json ? undefined : (line) => writeErr(line));
  if (opts.json) printJson(done);
  else {
    writeOut(formatPlan(done));
    if (done.test) writeOut(formatTestResult(done.test));
  }
  return done.test && !done.test.ok ? ExitCode.Error : ExitCode.Ok;
}

/** After `node add`: when no provider works, say how `node prepare` brings one (nothing runs unasked). */
export function offerProvider(name: string, providers: NodeProviders | null): void {
  if (!providers || providers.docker.available || providers.lxc.available || providers.qemu.available) return;
  writeErr(
    `No provider works on ${name} yet: \`vendetta node prepare ${name} --provider docker\` installs Docker with the node's package manager (or lxc, qemu); add --dry-run to see the commands first.\n`,
  );
}
