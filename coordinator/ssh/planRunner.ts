/**
 * Runs a package plan on a node: each step announced (title and exact command) before it runs,
 * as root directly or through `sudo -n` (never a password prompt: there is no one to type it).
 * Without root and without passwordless sudo nothing runs, and the error lists the commands an
 * administrator would run.
 */
import type { Client } from 'ssh2';
import { VendettaError } from '../errors';
import { execCollect } from './exec';
import { canBecomeRoot, type NodeFacts } from './nodeFacts';
import { adminCommands, stepCommand, type PlanStep } from './packagePlans';
import { shellCommand } from './shellQuote';

/** A package install over a slow mirror can take minutes. */
const STEP_TIMEOUT_MS = 20 * 60_000;

export interface StepOutcome {
  title: string;
  command: string;
  status: 'ran' | 'skipped';
  ms: number;
}

/** The error for a user who cannot become root: what to ask an administrator to run. */
export function privilegeRequired(
  node: string,
  facts: Pick<NodeFacts, 'user' | 'sudo'>,
  steps: readonly PlanStep[],
  what: string,
): VendettaError {
  const commands = adminCommands(steps.filter((s) => s.root));
  // `sudo -n` fails alike for a user sudo asks a password of and one it does not know at all.
  const why =
    facts.sudo === 'password' ? `${facts.user} has no passwordless sudo` : `${facts.user} is not root and has no sudo`;
  return new VendettaError('NODE_PRIVILEGE_REQUIRED', `${what} on ${node} needs root, and ${why}`, {
    node,
    hint: `Ask an administrator of ${node} to run, as root:\n  ${commands.join('\n  ')}\nor give ${facts.user} passwordless sudo for them, then retry.`,
    details: { user: facts.user, sudo: facts.sudo, commands },
  });
}

/** Checks that the plan can run at all, before the first step. */
export function assertCanRun(node: string, facts: NodeFacts, steps: readonly PlanStep[], what: string): void {
  if (steps.some((s) => s.root) && !canBecomeRoot(facts)) throw privilegeRequired(node, facts, steps, what);
}

function argvFor(step: PlanStep, argv: string[], facts: NodeFacts): string[] {
  return step.root && facts.sudo !== 'root' ? ['sudo', '-n', ...argv] : argv;
}

export async function runPlan(
  client: Client,
  node: string,
  facts: NodeFacts,
  steps: readonly PlanStep[],
  what: string,
  announce: (i: number, total: number, step: PlanStep, command: string) => void,
): Promise<StepOutcome[]> {
  assertCanRun(node, facts, steps, what);
  const viaSudo = facts.sudo !== 'root';
  const out: StepOutcome[] = [];
  for (const [i, step] of steps.entries()) {
    const command = stepCommand(step, viaSudo);
    announce(i + 1, steps.length, step, command);
    const t0 = Date.now();
    if (step.unless) {
      const check = await execCollect(client, node, shellCommand(argvFor(step, step.unless, facts)), {
        timeoutMs: 60_000,
      });
      if (check.code === 0) {
        out.push({ title: step.title, command, status: 'skipped', ms: Date.now() - t0 });
        continue;
      }
    }
    const r = await execCollect(client, node, shellCommand(argvFor(step, step.argv, facts)), {
      timeoutMs: STEP_TIMEOUT_MS,
      stdin: step.stdin ?? '',
    });
    if (r.code !== 0) {
      const said = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-4).join(' | ').slice(0, 500);
      throw new VendettaError(
        'NODE_PREPARE_FAILED',
        `${what} on ${node} stopped at "${step.title}": \`${command.split('\n')[0]}\` exited ${r.code ?? r.signal ?? 'abnormally'}${said ? `: ${said}` : ''}`,
        {
          node,
          hint: /sudo: a password is required|sudo: a terminal is required/.test(r.stderr)
            ? `sudo on ${node} asks ${facts.user} for a password for this command: give passwordless sudo for it, or have an administrator run it.`
            : `Run that command on ${node} yourself to see the whole output; the steps before it are done, and running the same vendetta command again skips nothing harmful (installing is idempotent).`,
          details: { step: step.title, command, exitCode: r.code, stderr: r.stderr.slice(-4000) },
        },
      );
    }
    out.push({ title: step.title, command, status: 'ran', ms: Date.now() - t0 });
  }
  return out;
}
