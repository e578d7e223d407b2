/**
 * What a running workspace's login gets after each create: the secrets (or their removal when the
 * workspace had some and has none now), the git identity, and the dotfiles when asked (they are
 * installed once, see dotfiles.ts). All need the workspace running. Answers what went wrong without
 * failing the create (the dotfiles), for the create's answer.
 */
import type { Logger } from '../log/logger';
import type { WorkspaceProvider } from '../providers/contract';
import type { CreateWarning, GitIdentity } from '../protocol';
import { installDotfiles, type DotfilesRun } from './dotfiles';
import { applyGitIdentity } from './gitIdentity';
import { applyLoginSecrets } from './secrets';

export interface LoginSetup {
  workspace: string;
  providerId: string;
  user: string;
  gitIdentity: GitIdentity | undefined;
  secrets: Readonly<Record<string, string>> | undefined;
  hadSecrets: boolean;
  /** Cancels the calls into the workspace (the create was cancelled). */
  signal?: AbortSignal;
}

/** The dotfiles before the git identity: a [user] their gitconfig brings is the workspace's own, and wins. */
export async function setUpLogin(
  provider: WorkspaceProvider,
  s: LoginSetup,
  logger: Logger,
  dotfiles?: Pick<DotfilesRun, 'dotfiles' | 'workspaceDir' | 'say'>,
): Promise<CreateWarning[]> {
  if (Object.keys(s.secrets ?? {}).length || s.hadSecrets)
    await applyLoginSecrets(provider, s.providerId, s.user, s.secrets ?? {}, logger, s.workspace, s.signal);
  const installed = dotfiles && (await installDotfiles(provider, { ...s, ...dotfiles }, logger));
  await applyGitIdentity(provider, s.providerId, s.user, s.gitIdentity, logger, s.workspace, s.signal);
  return typeof installed === 'object'
    ? [{ code: 'DOTFILES_NOT_INSTALLED', message: `Dotfiles not installed: ${installed.notInstalled}` }]
    : [];
}
