/**
 * `vendetta node prepare NODE --provider …` on the SSH side: read what the node is, plan the
 * package-manager steps for the provider, and (unless it is a dry run) run them, each announced
 * with its command first. A group granted to the SSH user takes effect in new logins only, so the
 * agent daemon (started under the old groups) is stopped afterwards; the next attach, on a new
 * connection, starts it again with the new ones.
 */
import { VendettaError } from '../errors';
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import type { PreparePlanStep, PrepareProvider } from '../protocol';
import { openSsh } from './connect';
import { canBecomeRoot, readNodeFacts, type NodeFacts } from './nodeFacts';
import { adminCommands, providerPlan, stepCommand } from './packagePlans';
import { runPlan } from './planRunner';
import { stopDaemon } from './purge';
import type { SshNodeTarget } from './target';

export interface PrepareOptions {
  paths: HomePaths;
  log: Logger;
  agentBundle?: string;
  dryRun: boolean;
  /** Called before each step runs (and for each step of a dry run). */
  announce: (i: number, total: number, title: string, command: string, warning?: string) => void;
}

export interface PrepareOutcome {
  steps: PreparePlanStep[];
  /** How root commands run: as root, through sudo -n, or not at all. */
  privilege: 'root' | 'sudo' | 'none';
  /** What an administrator would run as root (set when privilege is none). */
  adminCommands?: string[];
  system: string;
}

function privilegeOf(f: NodeFacts): PrepareOutcome['privilege'] {
  return f.sudo === 'root' ? 'root' : canBecomeRoot(f) ? 'sudo' : 'none';
}

const NAMES: Record<PrepareProvider, string> = { docker: 'Docker', lxc: 'LXD/Incus', qemu: 'QEMU' };

export async function prepareNode(
  target: SshNodeTarget,
  provider: PrepareProvider,
  opts: PrepareOptions,
): Promise<PrepareOutcome> {
  const node = target.name;
  const { client } = await openSsh(target, { paths: opts.paths, log: opts.log });
  client.on('error', () => undefined);
  try {
    const facts = await readNodeFacts(client, node);
    const system = `${facts.distro.name || facts.distro.id} (${facts.arch}), ${facts.packageManager ?? 'no known package manager'}, as ${facts.user}${facts.sudo === 'root' ? '' : canBecomeRoot(facts) ? ' via sudo' : ''}`;
    const plan = providerPlan(provider, facts);
    if (plan.length === 0) {
      throw new VendettaError(
        'NODE_PREPARE_FAILED',
        `${node} has no package manager vendetta knows (apt, dnf, zypper, apk), so it cannot install ${NAMES[provider]} there`,
        {
          node,
          hint: `Install ${NAMES[provider]} on ${node} by hand, then \`vendetta node test ${node}\`.`,
        },
      );
    }
    const viaSudo = facts.sudo !== 'root';
    const privilege = privilegeOf(facts);
    const planned: PreparePlanStep[] = plan.map((s) => ({
      title: s.title,
      command: stepCommand(s, viaSudo),
      status: 'planned',
      ...(s.warning ? { warning: s.warning } : {}),
    }));
    if (opts.dryRun) {
      planned.forEach((s, i) => opts.announce(i + 1, planned.length, s.title, s.command, s.warning));
      return {
        steps: planned,
        privilege,
        system,
        ...(privilege === 'none' ? { adminCommands: adminCommands(plan.filter((s) => s.root)) } : {}),
      };
    }
    const ran = await runPlan(client, node, facts, plan, `Preparing ${NAMES[provider]}`, (i, n, step, command) =>
      opts.announce(i, n, step.title, command, step.warning),
    );
    const steps: PreparePlanStep[] = planned.map((s, i) => ({ ...s, status: ran[i]?.status ?? 'planned' }));
    if (plan.some((s) => s.argv[0] === 'usermod' && ran[plan.indexOf(s)]?.status === 'ran')) {
      // The daemon keeps the groups it started with: let the next attach start it anew.
      await stopDaemon(client, target, opts);
      opts.log.info('agent daemon stopped so that it starts again with the new group', { node, provider });
    }
    return { steps, privilege, system };
  } finally {
    client.end();
  }
}
