/**
 * How service processes are run and stopped inside a workspace, through nothing but the
 * provider's exec and the workspace's own /bin/sh.
 *
 * Run: `/bin/sh -c 'echo "vendetta-pid $$"; exec "$@"' vendetta-service <argv…>` — the wrapper
 * prints its pid on the first stdout line, then becomes the service (exec keeps the pid). The
 * service's argv is passed as arguments, never spliced into the wrapper's script; a string
 * command is `/bin/sh -c <command>` exactly as written.
 *
 * Stop: every process of a run carries `VENDETTA_SERVICE_RUN=<run id>` in its environment, and
 * children inherit it. A sweep (as root) signals every process in the workspace whose
 * /proc/<pid>/environ holds the marker. Unlike a pid or a process group this also reaches
 * children that forked away into their own group or session, needs no pid file (which a
 * non-root service could not write to /run, and which goes stale when pids are reused after a
 * restart), and also finds the processes of a run whose agent died (a restarted daemon sweeps
 * every marked process before it starts services again).
 */
import { randomBytes } from 'node:crypto';
import type { ServiceCommand } from '../protocol';
import { RUN_MARKER_VAR } from './env';

export const PID_LINE_PREFIX = 'vendetta-pid ';
const WRAPPER = `echo "${PID_LINE_PREFIX}$$"; exec "$@"`;

export function commandArgv(command: ServiceCommand): string[] {
  return typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
}

export function wrappedArgv(command: ServiceCommand): string[] {
  return ['/bin/sh', '-c', WRAPPER, 'vendetta-service', ...commandArgv(command)];
}

/** The wrapper's first line, if `line` is it. */
export function parsePidLine(line: string): number | undefined {
  if (!line.startsWith(PID_LINE_PREFIX)) return undefined;
  const n = Number(line.slice(PID_LINE_PREFIX.length));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Signals the marked processes of one run (or of every run when `runId` is ANY_RUN) and prints
 * how many it signalled. The value is matched as a substring of the environment: run ids have a
 * fixed length and a prefix no other text has. One `grep` reads every process's environment
 * where the workspace has grep; else a `cat` per process, which in a VM under TCG took longer
 * than the 10 s a sweep gets. grep's status is not trusted: a process that ends while it reads
 * is an error, not a reason to miss the others.
 */
const SWEEP = `sig=$1; id=$2; n=0
if command -v grep >/dev/null 2>&1; then
  for f in $(grep -lsF -e "${RUN_MARKER_VAR}=$id" /proc/[0-9]*/environ 2>/dev/null); do
    p=\${f#/proc/}; p=\${p%/environ}
    [ "$p" = "$$" ] && continue
    kill -"$sig" "$p" 2>/dev/null && n=$((n+1))
  done
else
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}
    [ "$p" = "$$" ] && continue
    case "$(cat "$d/environ" 2>/dev/null)" in
      *"${RUN_MARKER_VAR}=$id"*) kill -"$sig" "$p" 2>/dev/null && n=$((n+1)) ;;
    esac
  done
fi
echo "$n"`;

/** `0` signals nothing: the count says how many of the run's processes are alive. */
export type SweepSignal = 'TERM' | 'KILL' | '0';

export function sweepArgv(signal: SweepSignal, runId: string): string[] {
  return ['/bin/sh', '-c', SWEEP, 'vendetta-sweep', signal, runId];
}

/** `vs1.` + 16 hex digits: a fixed shape, so one id is never the prefix of another. */
export function newRunId(): string {
  return `vs1.${randomBytes(8).toString('hex')}`;
}

/** The marker prefix every run id starts with: a sweep for it finds every service process. */
export const ANY_RUN = 'vs1.';
