/** What the QEMU provider refuses or reports as failed, as errors a person can act on. */
import { statSync } from 'node:fs';
import { AgentError } from '../../errors';

export function requireFile(path: string, what: string): void {
  let ok = false;
  try {
    ok = statSync(path).isFile();
  } catch {
    ok = false;
  }
  if (!ok)
    throw new AgentError('IMAGE_NOT_FOUND', `${what} ${path} does not exist on this node`, {
      provider: 'qemu',
      hint: 'Put the file on the node (a cloud-init image, e.g. a Debian genericcloud qcow2) or fix the path in .vendetta/config.yaml.',
    });
}

/** A call whose signal was aborted (its client cancelled the request): it stops where it is. */
export function cancelled(what: string): AgentError {
  return new AgentError('PROVIDER_ERROR', `${what} was cancelled`, { provider: 'qemu' });
}

/** Between the steps of a call: stop with `cancelled` once its signal is aborted. */
export function stopIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw cancelled(what);
}

export function bootFailed(name: string, why: string, tail: string): AgentError {
  return new AgentError('PROVIDER_ERROR', `The VM of workspace ${name} did not come up: ${why}`, {
    provider: 'qemu',
    hint: tail
      ? `The last console lines:\n${tail}`
      : 'The VM wrote nothing to its serial console: check that the image boots with console=ttyS0 (or give qemu.kernel/initrd/append).',
  });
}

export function missing(id: string): never {
  throw new AgentError('WORKSPACE_MISSING', `The VM ${id} no longer exists`, {
    provider: 'qemu',
    hint: 'Its folder was removed outside Vendetta; remove the workspace (with force) and create it again.',
  });
}
