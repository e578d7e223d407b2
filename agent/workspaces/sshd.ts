/**
 * The OpenSSH server each workspace runs as its main process, configured entirely by files the
 * agent writes into it: its own config (nothing from the image's /etc/ssh is used), the
 * per-workspace host key, and authorized_keys in a folder only root may write.
 */
import { createHash } from 'node:crypto';
import { AgentError } from '../errors';
import type { WorkspaceSpec } from '../protocol';
import type { CallOptions, ProviderWorkspace, WorkspaceFile, WorkspaceProvider } from '../providers/contract';
import { loginEnv } from './remoteEnv';

export const SSHD_BINARY = '/usr/sbin/sshd';
export const VENDETTA_ETC = '/etc/vendetta';
export const SSHD_CONFIG = `${VENDETTA_ETC}/sshd_config`;
export const HOST_KEY_PATH = `${VENDETTA_ETC}/ssh_host_ed25519_key`;
export const AUTHORIZED_KEYS_DIR = `${VENDETTA_ETC}/authorized_keys`;
const SSHD_PID_FILE = '/run/vendetta-sshd.pid';

/**
 * A value for sshd_config's `SetEnv "NAME=value"`: sshd splits config lines like a shell word
 * list, with `\\` and `\"` as escapes inside double quotes. A line break cannot be written at all.
 */
export function setEnvArgument(name: string, value: string): string | undefined {
  if (/[\r\n\0]/.test(value)) return undefined;
  return `"${`${name}=${value}`.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The spec as logins see it: the image's own variables (features' containerEnv) under the spec's env. */
export function loginSpec(rec: { spec: WorkspaceSpec; imageEnv?: Record<string, string> }): WorkspaceSpec {
  return rec.imageEnv && Object.keys(rec.imageEnv).length
    ? { ...rec.spec, env: { ...rec.imageEnv, ...rec.spec.env } }
    : rec.spec;
}

/**
 * The sshd config of a workspace. Logins get the env and remoteEnv; `containerEnv` (the container's
 * environment as inspected) resolves remoteEnv's `${containerEnv:…}`, the spec's env when unknown.
 */
export function sshdConfigText(
  spec: WorkspaceSpec,
  containerEnv?: Record<string, string>,
): { text: string; skippedEnv: string[] } {
  const skippedEnv: string[] = [];
  const setEnv: string[] = [];
  for (const [k, v] of Object.entries(loginEnv(spec, containerEnv))) {
    const arg = setEnvArgument(k, v);
    if (arg) setEnv.push(arg);
    else skippedEnv.push(k);
  }
  const lines = [
    `# Written by the Vendetta agent for workspace ${spec.name}; rewritten on every create.`,
    'ListenAddress 0.0.0.0:22',
    `HostKey ${HOST_KEY_PATH}`,
    `PidFile ${SSHD_PID_FILE}`,
    `AuthorizedKeysFile ${AUTHORIZED_KEYS_DIR}/%u`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'X11Forwarding no',
    // The laptop's agent is a credential: only a workspace whose config opts in may receive it.
    `AllowAgentForwarding ${spec.forwardAgent ? 'yes' : 'no'}`,
    // Remote-SSH forwards ports and sockets through the workspace's sshd.
    'AllowTcpForwarding yes',
    'AllowStreamLocalForwarding yes',
    'Subsystem sftp internal-sftp',
    // The secrets reach SSH logins through ~/.ssh/environment (secrets.ts), read at each session.
    ...(spec.secretNames?.length ? ['PermitUserEnvironment yes'] : []),
    // sshd's sessions do not see the container's environment: pass the config's env on. One
    // line: sshd honours only the first SetEnv directive.
    ...(setEnv.length ? [`SetEnv ${setEnv.join(' ')}`] : []),
    '',
  ];
  return { text: lines.join('\n'), skippedEnv };
}

/**
 * Names the sshd config a spec gives, so the agent knows when a made workspace needs a new one
 * (remoteEnv as written: the container's environment does not change without a new container).
 */
export function sshdConfigHash(spec: WorkspaceSpec): string {
  return createHash('sha256').update(sshdConfigText(spec).text).digest('hex').slice(0, 32);
}

export function sshdConfigFile(spec: WorkspaceSpec, containerEnv?: Record<string, string>): WorkspaceFile {
  return { path: SSHD_CONFIG, type: 'file', mode: 0o644, content: sshdConfigText(spec, containerEnv).text };
}

/** Whether the sshd config depends on the container's environment (put in again once it is known). */
export function needsContainerEnv(spec: WorkspaceSpec): boolean {
  return Object.values(spec.remoteEnv ?? {}).some((v) => v.includes('${containerEnv:'));
}

/**
 * sshd re-executes itself on SIGHUP and writes its pid file only once it listens again: removing
 * the file first and waiting for it to come back tells when the new config is in force (5 s at most).
 */
const RELOAD_SCRIPT = `pid=$(cat ${SSHD_PID_FILE}) || exit 3
rm -f ${SSHD_PID_FILE}
kill -HUP "$pid" || exit 4
i=0
while [ ! -s ${SSHD_PID_FILE} ]; do
  i=$((i + 1)); [ $i -gt 100 ] && exit 5
  sleep 0.05
done`;

/**
 * Puts a changed sshd config (e.g. agent forwarding turned on or off) into a workspace that was
 * already made; a running sshd reloads it, so sessions already open stay while new ones get it.
 * The server the agent brought cannot reload (its re-execution would go through the image's
 * loader): the workspace stops (its services first), and the bring-up that follows starts it
 * with the new config. Returns the workspace as it is now.
 */
export async function applySshdConfig(
  provider: WorkspaceProvider,
  ws: ProviderWorkspace,
  spec: WorkspaceSpec,
  beforeStop: () => Promise<void>,
  call: CallOptions = {},
): Promise<ProviderWorkspace> {
  await provider.putFiles(ws.providerId, [sshdConfigFile(spec, ws.env)], call);
  if (ws.state !== 'running') return ws;
  if (ws.sshServer === 'agent') {
    await beforeStop();
    await provider.stop(ws.providerId, call);
    return (await provider.inspect(ws.providerId, call)) ?? ws;
  }
  const r = await provider.exec(ws.providerId, ['sh', '-c', RELOAD_SCRIPT], { ...call, timeoutMs: 15_000 });
  if (r.exitCode !== 0) {
    throw new AgentError(
      'PROVIDER_ERROR',
      `The SSH server of workspace ${spec.name} did not reload its new config (exit ${r.exitCode})`,
      {
        provider: provider.name,
        hint: `${r.stderr.trim() ? `It said: ${r.stderr.trim().slice(0, 300)}. ` : ''}\`vendetta workspace stop ${spec.name}\` then \`up\` starts it afresh with the new config.`,
      },
    );
  }
  return ws;
}

export function authorizedKeysText(keys: readonly string[]): string {
  return keys.map((k) => k.trim()).join('\n') + '\n';
}

/** The authorized_keys of one login user, owned by that user (sshd's StrictModes accepts it). */
export function authorizedKeysFile(user: string, keys: readonly string[], uid: number, gid: number): WorkspaceFile {
  return {
    path: `${AUTHORIZED_KEYS_DIR}/${user}`,
    type: 'file',
    mode: 0o600,
    uid,
    gid,
    content: authorizedKeysText(keys),
  };
}

/** Everything sshd needs before its first start. A non-root user's keys follow once the user exists. */
export function sshdFiles(spec: WorkspaceSpec, hostKey: { privateKeyPem: string; publicKey: string }): WorkspaceFile[] {
  const files: WorkspaceFile[] = [
    { path: VENDETTA_ETC, type: 'directory', mode: 0o755 },
    { path: AUTHORIZED_KEYS_DIR, type: 'directory', mode: 0o755 },
    sshdConfigFile(spec),
    { path: HOST_KEY_PATH, type: 'file', mode: 0o600, content: hostKey.privateKeyPem },
    {
      path: `${HOST_KEY_PATH}.pub`,
      type: 'file',
      mode: 0o644,
      content: `${hostKey.publicKey} vendetta-workspace-${spec.name}\n`,
    },
    // sshd's privilege-separation folder; Debian's package expects /run/sshd to exist.
    { path: '/run/sshd', type: 'directory', mode: 0o755 },
  ];
  if (spec.user === 'root') files.push(authorizedKeysFile('root', spec.authorizedKeys, 0, 0));
  return files;
}
