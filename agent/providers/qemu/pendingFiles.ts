/**
 * Files for a VM that is off: kept in its folder (contents base64) until the next boot puts them
 * in over the control connection. And the workspace's host key, found among the first files.
 */
import { readFileSync } from 'node:fs';
import { writeJsonAtomicSync } from '../../../common/fs/atomicWrite';
import { AgentError } from '../../errors';
import type { WorkspaceFile } from '../contract';

interface StoredFile extends Omit<WorkspaceFile, 'content'> {
  base64?: string;
}

export function readPending(file: string): WorkspaceFile[] {
  let stored: StoredFile[];
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as StoredFile[];
  } catch {
    return [];
  }
  return stored.map(({ base64, ...f }) => ({
    ...f,
    ...(base64 !== undefined ? { content: Buffer.from(base64, 'base64') } : {}),
  }));
}

export function writePending(file: string, files: WorkspaceFile[]): void {
  const stored: StoredFile[] = files.map(({ content, ...f }) => ({
    ...f,
    ...(content !== undefined ? { base64: Buffer.from(content).toString('base64') } : {}),
  }));
  writeJsonAtomicSync(file, stored);
}

function text(f: WorkspaceFile | undefined): string | undefined {
  return f?.content === undefined ? undefined : Buffer.from(f.content).toString('utf8');
}

/**
 * The host key the workspace's SSH server is configured with (its config's `HostKey` line, the
 * private key file and its `.pub` beside it, all among `files`): the seed gives the same key to
 * the VM's control server, so the key the agent pinned is the VM's from its first boot.
 */
export function hostKeyOf(files: WorkspaceFile[], configPath: string): { privateKeyPem: string; publicKey: string } {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const keyPath = /^\s*HostKey\s+(\S+)/m.exec(text(byPath.get(configPath)) ?? '')?.[1];
  const privateKeyPem = keyPath ? text(byPath.get(keyPath)) : undefined;
  const pub = keyPath ? text(byPath.get(`${keyPath}.pub`)) : undefined;
  const publicKey = pub?.trim().split(/\s+/).slice(0, 2).join(' ');
  if (!privateKeyPem || !publicKey || !publicKey.startsWith('ssh-ed25519 ')) {
    throw new AgentError('INTERNAL', "The workspace's SSH files name no ed25519 host key the VM can be seeded with", {
      provider: 'qemu',
      hint: 'Upgrade the agent: its workspace files and its QEMU provider do not match.',
    });
  }
  return { privateKeyPem, publicKey };
}
