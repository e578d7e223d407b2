/**
 * What the agent does inside a VM after each boot, over its control connection: puts the files
 * that were queued while the VM was off (the first boot's sshd config, host key and keys),
 * mounts the project folder (9p, the node folder itself — the same as Docker's bind mount) or,
 * for a guest without 9p, makes the folder its copy of the project lives in (guestPush.ts keeps
 * it in step), and has the guest's init run the workspace's SSH server (a systemd unit, started
 * on every boot).
 */
import { AgentError } from '../../errors';
import type { WorkspaceFile } from '../contract';
import { SSHD_UNIT, sshdUnitText } from '../sshdUnit';
import { PROJECT_TAG } from './argv';
import { putFilesInput, shellQuote } from './guestCommand';
import type { GuestConnection } from './guestSsh';
import { stopIfCancelled } from './refusals';

export function sshdUnit(ssh: { binary: string; configPath: string }): string {
  return sshdUnitText(ssh, ['ExecStartPre=/bin/mkdir -p /run/sshd', 'ExecReload=/bin/kill -HUP $MAINPID']);
}

/** Mounts the project share at the workspace folder unless something is mounted there already. */
export function mountProjectScript(folder: string): string {
  const f = shellQuote(folder);
  return `mkdir -p ${f} && { mountpoint -q ${f} || mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 ${PROJECT_TAG} ${f}; }`;
}

/**
 * The unit arrives on stdin; the server restarts when its files changed (`$1` = 1), else it is
 * only started (a no-op when running). systemd reloads only when a unit it had loaded changed: a
 * new unit is read at its first start (a reload costs seconds under TCG). Should systemd have
 * cached it as not found, the start fails once and goes again after a reload.
 */
export const INSTALL_UNIT_SCRIPT = `set -e
u=/etc/systemd/system/${SSHD_UNIT}
cat > "$u.new"
if cmp -s "$u.new" "$u"; then rm -f "$u.new"
elif [ -e "$u" ]; then mv -f "$u.new" "$u"; systemctl daemon-reload
else mv -f "$u.new" "$u"; fi
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -sfn ../${SSHD_UNIT} /etc/systemd/system/multi-user.target.wants/${SSHD_UNIT}
if [ "$1" = 1 ]; then verb=restart; else verb=start; fi
systemctl $verb ${SSHD_UNIT} || { systemctl daemon-reload; systemctl $verb ${SSHD_UNIT}; }`;

export async function putGuestFiles(
  conn: GuestConnection,
  files: WorkspaceFile[],
  signal?: AbortSignal,
): Promise<void> {
  if (files.length === 0) return;
  stopIfCancelled(signal, `Writing ${files[0]!.path} in the VM`);
  const { command, stdin } = putFilesInput(
    files.map((f) => ({
      ...f,
      content:
        f.type !== 'file' || f.content === undefined
          ? Buffer.alloc(0)
          : Buffer.isBuffer(f.content)
            ? f.content
            : Buffer.from(f.content, 'utf8'),
    })),
  );
  const r = await conn.run(command, { stdin, timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    const paths = files.map((f) => f.path).join(', ');
    throw new AgentError('PROVIDER_ERROR', `Could not write ${paths} in the VM (exit ${r.exitCode})`, {
      provider: 'qemu',
      hint: r.stderr.trim().slice(0, 300) || 'The guest gave no reason.',
    });
  }
}

/**
 * The project folder in the guest: mounted over 9p, or (`ssh`, or `auto` when the mount fails)
 * made as a plain folder for the copy. Says which, so the first boot's choice is kept.
 */
async function projectFolder(
  conn: GuestConnection,
  folder: string,
  share: 'auto' | '9p' | 'ssh',
  progress: (m: string) => void,
): Promise<'9p' | 'ssh'> {
  if (share !== 'ssh') {
    const mounted = await conn.run(mountProjectScript(folder), { timeoutMs: 60_000 });
    if (mounted.exitCode === 0) return '9p';
    const said = mounted.stderr.trim().slice(0, 300) || 'nothing';
    if (share === '9p')
      throw new AgentError(
        'PROVIDER_ERROR',
        `The VM could not mount the project folder at ${folder} (exit ${mounted.exitCode})`,
        {
          provider: 'qemu',
          hint: `The guest needs 9p support (the 9p and 9pnet_virtio kernel modules), or set qemu.projectShare: ssh to copy the project in over SSH. It said: ${said}`,
        },
      );
    progress(`The guest cannot mount the project over 9p (${said.split('\n')[0]}): it gets a copy over SSH instead`);
  }
  const made = await conn.run(`mkdir -p ${shellQuote(folder)}`, { timeoutMs: 60_000 });
  if (made.exitCode !== 0)
    throw new AgentError(
      'PROVIDER_ERROR',
      `The VM could not make the project folder ${folder} (exit ${made.exitCode})`,
      {
        provider: 'qemu',
        hint: made.stderr.trim().slice(0, 300) || 'The guest gave no reason.',
      },
    );
  return 'ssh';
}

export async function setUpGuest(
  conn: GuestConnection,
  o: {
    pending: WorkspaceFile[];
    workspaceFolder: string;
    ssh: { binary: string; configPath: string };
    share: 'auto' | '9p' | 'ssh';
    progress: (m: string) => void;
  },
): Promise<'9p' | 'ssh'> {
  // The folder and the SSH server do not wait on each other: two channels of the one connection.
  const [share] = await Promise.all([
    projectFolder(conn, o.workspaceFolder, o.share, o.progress),
    putGuestFiles(conn, o.pending).then(() => startSshd(conn, o.ssh, o.pending.length > 0)),
  ]);
  return share;
}

/** The workspace's SSH server as a unit of the guest's init, restarted when its files changed. */
async function startSshd(
  conn: GuestConnection,
  ssh: { binary: string; configPath: string },
  filesChanged: boolean,
): Promise<void> {
  const unit = await conn.run(`sh -c ${shellQuote(INSTALL_UNIT_SCRIPT)} vendetta-unit ${filesChanged ? 1 : 0}`, {
    stdin: Buffer.from(sshdUnit(ssh)),
    timeoutMs: 120_000,
  });
  if (unit.exitCode !== 0) {
    throw new AgentError(
      'PROVIDER_ERROR',
      `The VM could not start the workspace's SSH server (exit ${unit.exitCode})`,
      {
        provider: 'qemu',
        hint: `The image needs systemd and OpenSSH. It said: ${unit.stderr.trim().slice(0, 300) || 'nothing'}`,
      },
    );
  }
}
