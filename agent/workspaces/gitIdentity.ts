/**
 * Your git identity in every workspace: the laptop's `user.name` / `user.email` (sent in the spec)
 * become the login user's ~/.gitconfig `[user]` section, unless the workspace has one already (the
 * image's, your dotfiles', one set by hand): the workspace's own wins. Written as a file, so it
 * works in an image without git too (git reads it once it is installed).
 */
import type { Logger } from '../log/logger';
import type { GitIdentity } from '../protocol';
import type { WorkspaceProvider } from '../providers/contract';

/**
 * Appends the section unless ~/.gitconfig has a `[user]` section already. The text arrives as
 * `$1`, never inside the script: a name is data, not shell.
 */
export const GIT_IDENTITY_SCRIPT =
  'f="$HOME/.gitconfig"; if [ -f "$f" ] && grep -qi "^[[:space:]]*\\[user\\]" "$f"; then exit 0; fi; printf "%s" "$1" >> "$f"';

/** A git config value in double quotes: `\` and `"` escaped (newlines are refused at the boundary). */
function quoted(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The `[user]` section for ~/.gitconfig, or undefined when there is nothing to say. */
export function gitIdentitySection(id: GitIdentity | undefined): string | undefined {
  if (!id || (id.name === undefined && id.email === undefined)) return undefined;
  return `[user]\n${id.name !== undefined ? `\tname = ${quoted(id.name)}\n` : ''}${id.email !== undefined ? `\temail = ${quoted(id.email)}\n` : ''}`;
}

/** Best effort: a workspace without a shell or a home still comes up; the log says why. */
export async function applyGitIdentity(
  provider: WorkspaceProvider,
  providerId: string,
  user: string,
  id: GitIdentity | undefined,
  logger: Logger,
  workspace: string,
  signal?: AbortSignal,
): Promise<void> {
  const section = gitIdentitySection(id);
  if (!section) return;
  try {
    const r = await provider.exec(providerId, ['sh', '-c', GIT_IDENTITY_SCRIPT, 'sh', section], {
      user,
      signal,
      timeoutMs: 15_000,
    });
    if (r.exitCode !== 0)
      logger.warn('could not write the git identity into the workspace', {
        workspace,
        exitCode: r.exitCode,
        stderr: r.stderr.slice(0, 300),
      });
  } catch (err) {
    logger.warn('could not write the git identity into the workspace', { workspace, err });
  }
}
