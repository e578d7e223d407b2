/** Turns a failed probe of a Unix-socket API into a sentence and a hint a person can act on. */
import type { ProbeOutcome } from './contract';

export interface Failure {
  error: string;
  hint?: string;
}

export interface SocketApi {
  /** "Docker engine", "LXD/Incus daemon". */
  what: string;
  /** What to do when nothing listens: install/start it. */
  startHint: string;
  /** The group whose members may use the socket. */
  group: string;
}

export function socketFailure(
  api: SocketApi,
  socket: string,
  outcome: Extract<ProbeOutcome, { ok: false }>,
  timeoutMs: number,
): Failure {
  switch (outcome.code) {
    case 'ENOENT':
      return { error: `no ${api.what} answers on ${socket} (the socket does not exist)`, hint: api.startHint };
    case 'ECONNREFUSED':
      return {
        error: `no ${api.what} answers on ${socket} (connection refused: it is not running)`,
        hint: api.startHint,
      };
    case 'EACCES':
    case 'EPERM':
      return {
        error: `permission denied on ${socket}`,
        hint: `Add the agent's user to the ${api.group} group (\`usermod -aG ${api.group} USER\`), then reconnect.`,
      };
    case 'ETIMEDOUT':
      return {
        error: `the ${api.what} on ${socket} did not answer within ${timeoutMs / 1000} s`,
        hint: `It may be hung; check its log on the node.`,
      };
    default:
      if (outcome.status !== undefined)
        return { error: `the ${api.what} on ${socket} answered HTTP ${outcome.status}` };
      return { error: `cannot reach the ${api.what} on ${socket}: ${outcome.message}` };
  }
}
