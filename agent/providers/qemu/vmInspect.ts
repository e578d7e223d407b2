/**
 * What a VM is now, from its folder alone: created (never booted), running (QEMU's pid alive and
 * QMP says so), stopped, or in error (QEMU gone while running was wanted, or QMP not running).
 */
import type { ProviderWorkspace } from '../contract';
import { consoleTail, poweredOff } from './console';
import { stopIfCancelled } from './refusals';
import { livePid, qmpStatus } from './vmProcess';
import type { VmStore } from './vmStore';

export async function inspectVm(
  store: VmStore,
  id: string,
  signal?: AbortSignal,
): Promise<ProviderWorkspace | undefined> {
  stopIfCancelled(signal, `Inspecting the VM ${id}`);
  const rec = store.read(id);
  if (!rec) return undefined;
  const files = store.files(id);
  const base: ProviderWorkspace = {
    name: rec.name,
    providerId: rec.id,
    state: 'stopped',
    image: rec.image,
    createdAt: rec.createdAt,
    ...(rec.startedAt ? { startedAt: rec.startedAt } : {}),
    nodeFolder: rec.nodeFolder,
    labels: rec.labels,
  };
  const pid = livePid(files.pid, files.qmp);
  if (pid === undefined) {
    if (!rec.startedAt) return { ...base, state: 'created' };
    if (rec.wanted === 'running' && !poweredOff(consoleTail(files.console, 5))) {
      return {
        ...base,
        state: 'error',
        error: `The QEMU process of the VM is gone (killed or crashed) while the workspace was running; last console lines: ${consoleTail(files.console, 3) || 'none'}`,
      };
    }
    return { ...base, state: 'stopped', ...(rec.lastError ? { error: rec.lastError } : {}) };
  }
  stopIfCancelled(signal, `Inspecting the VM ${id}`);
  const status = await qmpStatus(files.qmp).catch((err: unknown) => ({
    status: `unanswered (${err instanceof Error ? err.message : String(err)})`,
    running: false,
  }));
  if (!status.running)
    return { ...base, state: 'error', error: `QEMU (pid ${pid}) reports the VM as ${status.status}` };
  const publishedPorts: Record<string, number> = { '22': rec.ports.ssh };
  for (const p of rec.ports.services) publishedPorts[String(p.guestPort)] = p.nodePort;
  return { ...base, state: 'running', sshPort: rec.ports.ssh, publishedPorts };
}
