/**
 * The steps of one `up` as they happen: reported as progress, written into the workspace's record
 * while it has not finished (so `list` and `status` never take a half-made workspace for a whole
 * one), and stopped at the next step when the client interrupts, saying what was left undone.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import type { ProgressReporter } from '../daemon/handlerTable';
import { VendettaError } from '../errors';
import type { UnfinishedUp } from '../protocol';
import type { WorkspaceOps } from './operations';
import type { WorkspaceRecord } from './store';

/**
 * The steps of `up`, in order: their numbers (`[3/6]`) and total derive from this table and the
 * plan, so a step added or skipped never leaves a number out of place.
 */
export const UP_STEPS = ['config', 'key', 'create', 'hostKey', 'code', 'services', 'forwards'] as const;
export type UpStep = (typeof UP_STEPS)[number];

/** The steps this plan takes: services and forwards only when it has them. */
export function plannedSteps(plan: Pick<UpPlan, 'services' | 'forwards'>): UpStep[] {
  return UP_STEPS.filter((s) => (s === 'services' ? plan.services : s === 'forwards' ? plan.forwards : true));
}

/** What each step of `up` makes; the ones not reached yet are what an interruption leaves undone. */
export interface UpPlan {
  name: string;
  node: string;
  path: string;
  git: boolean;
  services: boolean;
  forwards: boolean;
}

export class UpSteps {
  private reached: UnfinishedUp | undefined;
  private reachedStep: UpStep | undefined;
  private record: WorkspaceRecord | undefined;
  private readonly steps: UpStep[];

  constructor(
    private readonly m: Pick<WorkspaceOps, 'store' | 'emitChange'>,
    private readonly plan: UpPlan,
    private readonly report: ProgressReporter,
    private readonly token: CancellationToken | undefined,
  ) {
    this.steps = plannedSteps(plan);
  }

  /** Progress of a named step, numbered by its place among the planned steps. */
  say(step: UpStep, message: string): void {
    const at = this.steps.indexOf(step);
    if (at < 0)
      throw new VendettaError('INTERNAL', `The up of ${this.plan.name} has no ${step} step in its plan`, {
        hint: 'This is a bug in vendetta; please report it.',
      });
    this.progress(at + 1, this.steps.length, message);
    // After progress: a step the interruption stopped before was not reached.
    if (this.reached?.step === at + 1) this.reachedStep = step;
  }

  /**
   * Progress. A step further than the last one is where an interrupted `up` stops; the same step
   * said again (the agent's own progress inside a create) only reports.
   */
  readonly progress: ProgressReporter = (step, total, message) => {
    if (step > (this.reached?.step ?? 0)) {
      this.checkpoint();
      this.reached = { step, total, message, since: this.reached?.since ?? new Date().toISOString() };
      if (this.record) this.save({ ...this.record, unfinished: this.reached });
    }
    this.report(step, total, message);
  };

  /** From here on the record says how far this `up` got. */
  track(record: WorkspaceRecord): WorkspaceRecord {
    const r = this.reached ? { ...record, unfinished: this.reached } : record;
    this.save(r);
    return r;
  }

  /** Every step is done: the record no longer says unfinished. */
  finish(): void {
    this.checkpoint();
    if (!this.record) return;
    const done: WorkspaceRecord = { ...this.record };
    delete done.unfinished;
    this.save(done);
  }

  /** Throws the interruption when the client asked to stop (Ctrl-C, or it went away). */
  checkpoint(): void {
    if (this.token?.isCancellationRequested) throw this.interrupted();
  }

  /** Runs the steps; an error thrown because the client stopped waiting becomes the interruption it is. */
  async guard<T>(steps: () => Promise<T>): Promise<T> {
    try {
      return await steps();
    } catch (err) {
      // A step's own "cancelled" (the sync's, the agent's) says less than what the interruption left.
      throw this.token?.isCancellationRequested && !(err instanceof VendettaError && this.said.has(err))
        ? this.interrupted(err)
        : err;
    }
  }

  private readonly said = new WeakSet<object>();

  private interrupted(cause?: unknown): VendettaError {
    const { name, node, path } = this.plan;
    const at = this.reached ? `step ${this.reached.step}/${this.reached.total} (${this.reached.message})` : 'its start';
    const left = this.leftUndone();
    const e = new VendettaError('CANCELLED', `The up of ${name} on ${node} was interrupted at ${at}`, {
      node,
      cause,
      hint: left
        ? `Not done yet: ${left}. \`vendetta up ${path} --name ${name}\` finishes it; \`vendetta workspace rm ${name} --force\` removes what was made.`
        : `Nothing was made on ${node}.`,
    });
    this.said.add(e);
    return e;
  }

  /** In words, what the steps not finished would have made; empty when the node was never asked. */
  private leftUndone(): string {
    const step = this.reachedStep ? UP_STEPS.indexOf(this.reachedStep) : -1;
    const before = (s: UpStep) => step <= UP_STEPS.indexOf(s);
    if (step < UP_STEPS.indexOf('create') || !this.record) return '';
    const items: string[] = [];
    if (this.reachedStep === 'create') items.push(`the workspace on ${this.plan.node} may be half-made`);
    if (before('hostKey')) items.push('its ssh_config block');
    if (before('code')) items.push(this.plan.git ? 'the clone of its repository' : 'its code (partly sent at most)');
    if (this.plan.services && before('services')) items.push('its services');
    if (this.plan.forwards) items.push('its port forwards');
    return items.join(', ');
  }

  private save(record: WorkspaceRecord): void {
    this.record = record;
    this.m.store.upsert(record);
    this.m.emitChange();
  }
}
