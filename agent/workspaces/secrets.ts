/**
 * A workspace's secrets on the node: one file of `NAME=value` lines, 0600, of the agent's user,
 * beside (never inside) the project folder the workspace can write. From it the login user's
 * ~/.ssh/environment is written (sshd reads it at each session: SSH logins and Remote-SSH get the
 * secrets, with `PermitUserEnvironment` on), and each service and hook run gets them in its
 * process environment. No value ever goes into an argv, a label, the state file, a log line or
 * an error message: values travel in files and stdin only; messages name variables, never values.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../common/fs/atomicWrite';
import { readTextIfExists } from '../../common/fs/files';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { WorkspaceProvider } from '../providers/contract';
import { SECRET_NAME } from '../protocol';

export const SECRETS_FILE_NAME = 'secrets.env';
export function secretsFile(workspaceDir: string): string {
  return join(workspaceDir, SECRETS_FILE_NAME);
}

/** The file's text: `NAME=value` per line, in name order (sshd's ~/.ssh/environment format). */
export function secretsText(values: Readonly<Record<string, string>>): string {
  return Object.keys(values)
    .sort()
    .map((k) => `${k}=${values[k]}\n`)
    .join('');
}

export function parseSecretsText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && SECRET_NAME.test(line.slice(0, eq))) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Writes the node's copy (0600), or removes it when the workspace has no secrets any more. */
export function storeSecrets(workspaceDir: string, values: Readonly<Record<string, string>> | undefined): void {
  const file = secretsFile(workspaceDir);
  if (values && Object.keys(values).length) writeFileAtomicSync(file, secretsText(values), { mode: 0o600 });
  else rmSync(file, { force: true });
}

/** The workspace's secrets as the node keeps them ({} when it has none). */
export function loadSecrets(workspaceDir: string): Record<string, string> {
  const text = readTextIfExists(secretsFile(workspaceDir));
  return text === undefined ? {} : parseSecretsText(text);
}

/** Writes ~/.ssh/environment as the login user from stdin (0600, its own), replacing it whole. */
export const LOGIN_ENV_SCRIPT =
  'umask 077; d="$HOME/.ssh"; mkdir -p "$d" && cat > "$d/environment.vendetta-new" && mv -f "$d/environment.vendetta-new" "$d/environment"';

/**
 * Gives the login environment the secrets (an empty file once a workspace has none any more, so
 * no old value stays behind). Fails loudly: a workspace that should have secrets and has not is
 * not one to work in unknowingly.
 */
export async function applyLoginSecrets(
  provider: WorkspaceProvider,
  providerId: string,
  user: string,
  values: Readonly<Record<string, string>>,
  logger: Logger,
  workspace: string,
  signal?: AbortSignal,
): Promise<void> {
  const r = await provider.exec(providerId, ['sh', '-c', LOGIN_ENV_SCRIPT], {
    user,
    signal,
    stdin: Buffer.from(secretsText(values)),
    timeoutMs: 15_000,
  });
  if (r.exitCode === 0) return;
  const said = r.stderr.trim().slice(0, 300);
  logger.warn('could not write the login environment of a workspace', { workspace, exitCode: r.exitCode });
  throw new AgentError(
    'PROVIDER_ERROR',
    `Could not give the SSH logins of workspace ${workspace} its secrets: writing ~/.ssh/environment of ${user} failed (exit ${r.exitCode})`,
    {
      provider: provider.name,
      hint: `${said ? `It said: ${said}. ` : ''}The login user needs a writable home folder and sh, mkdir, cat and mv in the image.`,
    },
  );
}
