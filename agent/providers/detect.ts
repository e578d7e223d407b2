/**
 * Detects every provider in parallel, each bounded in time, and caches the answer briefly so a
 * warm `node/inspect` costs nothing while a provider installed or started a moment ago still shows up.
 */
import { arch } from 'node:os';
import { withTimeout } from '../../common/async/timeout';
import {
  notRunnableReason,
  RUNNABLE_PROVIDERS,
  type ProviderName,
  type ProviderStatus,
  type ProvidersInfo,
} from '../protocol';
import type { ProbeRunner } from './contract';
import { detectDocker } from './docker/detect';
import { detectLxc } from './lxc/detect';
import { detectQemu } from './qemu/detect';

export interface DetectOptions {
  env: NodeJS.ProcessEnv;
  runner: ProbeRunner;
  /** Per probe. */
  timeoutMs: number;
  nodeArch?: string;
}

export async function detectProviders(opts: DetectOptions): Promise<ProvidersInfo> {
  const { env, runner, timeoutMs } = opts;
  // The probes carry their own timeouts; this bound also covers a runner that ignores them.
  const bound = timeoutMs + 500;
  const [docker, lxc, qemu] = await Promise.all([
    bounded('docker', detectDocker(env, runner, timeoutMs), bound, {}),
    bounded('lxc', detectLxc(env, runner, timeoutMs), bound, {}),
    bounded('qemu', detectQemu(opts.nodeArch ?? arch(), runner, timeoutMs), bound, { kvm: false }),
  ]);
  return { docker, lxc: notRunnable('lxc', lxc), qemu: notRunnable('qemu', qemu) };
}

/** What the node has installed stays visible, but a provider this agent cannot run is never "available". */
function notRunnable<T extends ProviderStatus>(name: ProviderName, found: T): T {
  if (RUNNABLE_PROVIDERS.includes(name)) return found;
  const installed = found.available ? ` (the node has ${name}${found.version ? ` ${found.version}` : ''})` : '';
  return {
    ...found,
    available: false,
    error: `${notRunnableReason(name)}${installed}`,
    hint: `Use provider: ${RUNNABLE_PROVIDERS.join(' or ')}.`,
  };
}

async function bounded<T extends { available: boolean; error?: string }>(
  name: ProviderName,
  work: Promise<T>,
  ms: number,
  extra: Omit<T, 'available' | 'error'>,
): Promise<T> {
  const fallback = (error: string): T => ({ ...extra, available: false, error }) as T;
  const late = new Error(`${name} detection did not finish within ${ms / 1000} s`);
  return withTimeout(work, ms, () => late).catch((err: unknown) =>
    fallback(err === late ? late.message : `${name} detection failed: ${(err as Error).message}`),
  );
}

/** Remembers the last detection for `ttlMs`; concurrent callers share one run. */
export class ProviderCache {
  private last: { at: number; value: ProvidersInfo } | undefined;
  private running: Promise<ProvidersInfo> | undefined;

  constructor(
    private readonly detect: () => Promise<ProvidersInfo>,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<ProvidersInfo> {
    if (this.last && this.now() - this.last.at < this.ttlMs) return Promise.resolve(this.last.value);
    this.running ??= this.detect()
      .then((value) => {
        this.last = { at: this.now(), value };
        return value;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
