/**
 * The cloud-init NoCloud seed of a workspace VM: its hostname, the workspace's SSH host key (so
 * the key the agent pinned is the one the guest presents from its first boot), and the agent's
 * own control login — the image's OpenSSH server moved to guest port 2222, taking only the
 * agent's key, for root. No password anywhere. The workspace's own SSH server (the agent's
 * sshd_config, the user's keys) is installed over that control login after boot.
 * user-data is written as JSON, which cloud-init's YAML loader reads as it is.
 */
import { buildIso } from './iso9660';

/** The guest port of the agent's control SSH server (the image's sshd, moved off 22). */
export const CONTROL_GUEST_PORT = 2222;
export const CONTROL_KEYS_PATH = '/etc/vendetta-qemu/control_authorized_keys';
export const CONTROL_SSHD_DROPIN = '/etc/ssh/sshd_config.d/00-vendetta-control.conf';

export interface SeedInput {
  /** The VM's id: cloud-init runs its once-per-instance steps again only for a new one. */
  instanceId: string;
  hostname: string;
  /** The workspace's host key, OpenSSH private key format and `ssh-ed25519 AAAA…`. */
  hostKey: { privateKeyPem: string; publicKey: string };
  /** The agent's control key: `ssh-ed25519 AAAA…`. */
  controlPublicKey: string;
}

/**
 * Included first by Debian's sshd_config, so these win (sshd keeps the first value it reads):
 * the image's server listens on the control port and reads only the control key file.
 */
export function controlSshdDropIn(): string {
  return [
    "# Written by the Vendetta agent: this server is the agent's control login into the VM.",
    `Port ${CONTROL_GUEST_PORT}`,
    `AuthorizedKeysFile ${CONTROL_KEYS_PATH}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UseDNS no',
    // Every service and check of the workspace is a channel on the agent's one connection.
    'MaxSessions 256',
    '',
  ].join('\n');
}

export function userData(s: SeedInput): string {
  const config = {
    hostname: s.hostname,
    preserve_hostname: false,
    ssh_pwauth: false,
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ed25519_private: s.hostKey.privateKeyPem, ed25519_public: s.hostKey.publicKey },
    write_files: [
      { path: CONTROL_SSHD_DROPIN, permissions: '0644', content: controlSshdDropIn() },
      {
        path: CONTROL_KEYS_PATH,
        permissions: '0600',
        content: `${s.controlPublicKey.trim()} vendetta-agent-control\n`,
      },
    ],
  };
  return `#cloud-config\n${JSON.stringify(config, null, 1)}\n`;
}

export function metaData(s: SeedInput): string {
  return `${JSON.stringify({ 'instance-id': s.instanceId, 'local-hostname': s.hostname })}\n`;
}

/** The seed disk: an ISO 9660 volume labelled `cidata`. */
export function seedImage(s: SeedInput): Buffer {
  return buildIso('cidata', [
    { name: 'user-data', data: userData(s) },
    { name: 'meta-data', data: metaData(s) },
  ]);
}
