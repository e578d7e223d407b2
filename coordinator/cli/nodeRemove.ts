/**
 * `vendetta node remove NAME [--purge [--yes]]`. A purge first lists what it would remove (the
 * node's workspaces: containers, folders, ssh_config blocks, known_hosts lines; then the agent),
 * asks on a terminal — or takes --yes — and removes exactly the list that was confirmed.
 */
import { VendettaError } from '../errors';
import { RemoveNode, type PurgedWorkspace, type RemoveNodeResult } from '../protocol';
import { withClient } from './client';
import { ExitCode, formatTable, printJson, writeErr, writeOut } from './output';
import { confirm } from './prompt';

export interface RemoveOpts {
  json?: boolean;
  purge?: boolean;
  yes?: boolean;
}

/** What one workspace of a purge is made of, for a person: "container 1a2b3c4d5e6f, folder …, ssh_config block". */
export function purgedParts(w: PurgedWorkspace): string {
  return (
    [
      w.container ? `container ${w.container.slice(0, 12)}` : undefined,
      w.folder ? `folder ${w.folder}` : undefined,
      w.sshConfigBlock ? `ssh_config block ${w.sshHost ?? ''}`.trim() : undefined,
      w.knownHostsLine ? 'known_hosts line' : undefined,
    ]
      .filter(Boolean)
      .join(', ') || 'nothing left of it'
  );
}

export function formatPurgePlan(node: string, workspaces: readonly PurgedWorkspace[]): string {
  const head =
    workspaces.length === 0
      ? `${node} has no workspaces; the purge stops its agent and deletes its files there.\n`
      : `Purging ${node} removes ${workspaces.length} workspace${workspaces.length === 1 ? '' : 's'}, then stops its agent and deletes its files there:\n`;
  if (workspaces.length === 0) return head;
  const table = formatTable(workspaces, [
    { header: 'WORKSPACE', value: (w) => w.name },
    { header: 'STATE', value: (w) => w.state ?? 'only here' },
    { header: 'REMOVES', value: purgedParts },
  ]);
  return head + table.replace(/^/gm, '  ');
}

function formatRemoved(r: RemoveNodeResult): string {
  const lines = (r.workspaces ?? []).map((w) => `removed workspace ${w.name} (${purgedParts(w)})`);
  lines.push(r.purged ? `removed ${r.name} and purged its agent` : `removed ${r.name}`);
  return lines.join('\n') + '\n';
}

export function removeNode(name: string, opts: RemoveOpts): Promise<number> {
  return withClient(async (client) => {
    if (!opts.purge) {
      if (opts.yes)
        throw new VendettaError('INVALID_PARAMS', '--yes goes with --purge', {
          hint: `\`vendetta node remove ${name}\` asks nothing; add --purge to clean up the node too.`,
        });
      const result = await client.request(RemoveNode, { name, purge: false });
      if (opts.json) printJson(result);
      else writeOut(formatRemoved(result));
      return ExitCode.Ok;
    }
    const plan = (await client.request(RemoveNode, { name, purge: true, dryRun: true })).workspaces ?? [];
    if (!opts.yes) {
      const terminal = !opts.json && process.stdin.isTTY === true && process.stderr.isTTY === true;
      const what = plan.length
        ? `its ${plan.length} workspace${plan.length === 1 ? '' : 's'} (${plan.map((w) => w.name).join(', ')}) and its agent`
        : 'its agent';
      if (!terminal) {
        throw new VendettaError(
          'INVALID_PARAMS',
          `Not purging ${name} without a confirmation: it would remove ${what}`,
          {
            node: name,
            hint: `Run it on a terminal to see the list and confirm, or add --yes: \`vendetta node remove ${name} --purge --yes\`.`,
          },
        );
      }
      writeErr(formatPurgePlan(name, plan));
      if (!(await confirm(`Remove ${what}, and forget ${name}? [y/N] `))) {
        throw new VendettaError('CANCELLED', `Not removed: the purge of ${name} was not confirmed`, {
          node: name,
          hint: `\`vendetta node remove ${name}\` without --purge forgets the node and leaves it as it is.`,
        });
      }
    }
    const result = await client.request(RemoveNode, { name, purge: true, workspaces: plan.map((w) => w.name) });
    if (opts.json) printJson(result);
    else writeOut(formatRemoved(result));
    return ExitCode.Ok;
  });
}
