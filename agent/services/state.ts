/**
 * What the agent remembers of a workspace's services across its own restarts, in the
 * workspace's folder (removed with it): whether they should be running, and whether postCreate ran.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HookRun } from '../protocol';
import { writeJsonAtomicSync } from '../../common/fs/atomicWrite';

export interface ServicesRecord {
  /** `running` from services/start until services/stop or a workspace stop. */
  desired: 'running' | 'stopped';
  postCreate?: HookRun;
}

export function servicesStateFile(workspaceDir: string): string {
  return join(workspaceDir, 'services.json');
}

export function readServicesRecord(file: string): ServicesRecord {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<ServicesRecord>;
    const out: ServicesRecord = { desired: v.desired === 'running' ? 'running' : 'stopped' };
    if (v.postCreate && typeof v.postCreate === 'object' && typeof v.postCreate.at === 'string')
      out.postCreate = v.postCreate;
    return out;
  } catch {
    return { desired: 'stopped' };
  }
}

export function writeServicesRecord(file: string, rec: ServicesRecord): void {
  writeJsonAtomicSync(file, rec, { mode: 0o600 });
}
