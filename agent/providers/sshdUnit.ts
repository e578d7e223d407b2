/**
 * The workspace's SSH server as a systemd unit, for providers whose workspace runs its own init
 * (an LXD system container, a VM): it comes back on every boot, and sessions outlive a restart
 * of the listener (as with the distribution's own ssh.service). Each provider adds its own
 * service lines (how /run/sshd gets made, how the server reloads).
 */
import type { SshServerIntent } from './contract';

export const SSHD_UNIT = 'vendetta-sshd.service';

export function sshdUnitText(
  ssh: Pick<SshServerIntent, 'binary' | 'configPath'>,
  serviceLines: string[],
  orderLines: string[] = ['After=network.target'],
): string {
  return [
    '# Written by the Vendetta agent: the workspace SSH server.',
    '[Unit]',
    'Description=Vendetta workspace SSH server',
    ...orderLines,
    '',
    '[Service]',
    `ExecStart=${ssh.binary} -D -e -f ${ssh.configPath}`,
    ...serviceLines,
    'KillMode=process',
    'Restart=always',
    'RestartSec=1',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
