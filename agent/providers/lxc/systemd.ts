/**
 * How an LXD workspace runs its SSH server: as a systemd unit under the instance's own init, so
 * it comes back whenever the instance boots (by us, by LXD's autostart, by `lxc restart`). The
 * image's own ssh service is masked: the workspace's SSH server is ours (its config, its host key).
 */
import type { SshServerIntent, WorkspaceFile } from '../contract';
import { SSHD_UNIT, sshdUnitText as sharedUnitText } from '../sshdUnit';

const UNIT_DIR = '/etc/systemd/system';

/**
 * The server starts as soon as the container's init does, not after basic.target (about 1.5 s
 * later, the whole sysinit chain): it needs only what is there before init runs (the root file
 * system, /run, the loopback that init brings up, the project disk device) and the journal's
 * socket. With `UsePAM no` it never reads systemd's /run/nologin, so a login during the rest of
 * the boot is not refused. It still stops at shutdown (the lines DefaultDependencies would add).
 */
const EARLY_ORDER = [
  'DefaultDependencies=no',
  'After=systemd-journald.socket',
  'Conflicts=shutdown.target',
  'Before=shutdown.target',
];

export function sshdUnitText(ssh: SshServerIntent): string {
  // Debian's sshd wants its privilege-separation folder; /run is a fresh tmpfs on every boot.
  return sharedUnitText(ssh, ['RuntimeDirectory=sshd', 'RuntimeDirectoryPreserve=yes'], EARLY_ORDER);
}

/** A file, or a symbolic link (`target`), put into the instance. */
export type InstanceFile = WorkspaceFile | { path: string; type: 'symlink'; target: string };

/**
 * The files in waves whose pushes may run at once (each is one LXD API call): an entry goes after
 * every folder earlier in the list that holds it, and after an earlier entry of the same path.
 */
export function pushWaves<T extends { path: string; type: string }>(files: readonly T[]): T[][] {
  const waves: T[][] = [];
  const placed: Array<{ path: string; folder: boolean; wave: number }> = [];
  for (const f of files) {
    let wave = 0;
    for (const p of placed)
      if (p.path === f.path || (p.folder && f.path.startsWith(p.path.endsWith('/') ? p.path : `${p.path}/`)))
        wave = Math.max(wave, p.wave + 1);
    (waves[wave] ??= []).push(f);
    placed.push({ path: f.path, folder: f.type === 'directory', wave });
  }
  return waves.filter((w) => w !== undefined);
}

/** The unit, enabled (the link `systemctl enable` makes), and the image's sshd masked. */
export function sshdUnitFiles(ssh: SshServerIntent): InstanceFile[] {
  return [
    { path: `${UNIT_DIR}/${SSHD_UNIT}`, type: 'file', mode: 0o644, content: sshdUnitText(ssh) },
    { path: `${UNIT_DIR}/multi-user.target.wants`, type: 'directory', mode: 0o755 },
    { path: `${UNIT_DIR}/multi-user.target.wants/${SSHD_UNIT}`, type: 'symlink', target: `${UNIT_DIR}/${SSHD_UNIT}` },
    { path: `${UNIT_DIR}/ssh.service`, type: 'symlink', target: '/dev/null' },
    { path: `${UNIT_DIR}/ssh.socket`, type: 'symlink', target: '/dev/null' },
  ];
}

/** The unit's last lines, for an error message when sshd does not come up. */
export const journalArgv = (lines: number): string[] => [
  'journalctl',
  '--no-pager',
  '-o',
  'cat',
  '-n',
  String(lines),
  '-u',
  SSHD_UNIT,
];
