/**
 * What a running workspace's login gets after each create: the secrets (or their removal when the
 * workspace had some and has none now) and the git identity. Both need the workspace running.
 */
import type { Logger } from '../log/logger';
import type { WorkspaceProvider } from '../providers/contract';
import type { GitIdentity } from '../protocol';
import { applyGitIdentity } from './gitIdentity';
import { applyLoginSecrets } from './secrets';

export interface LoginSetup {
  workspace: string;
  providerId: string;
  user: string;
  gitIdentity: GitIdentity | undefined;
  secrets: Readonly<Record<string, string>> | undefined;
  hadSecrets: boolean;
}

export async function setUpLogin(provider: WorkspaceProvider, s: LoginSetup, logger: Logger): Promise<void> {
  if (Object.keys(s.secrets ?? {}).length || s.hadSecrets)
    await applyLoginSecrets(provider, s.providerId, s.user, s.secrets ?? {}, logger, s.workspace);
  await applyGitIdentity(provider, s.providerId, s.user, s.gitIdentity, logger, s.workspace);
}
