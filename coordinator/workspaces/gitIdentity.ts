/**
 * This machine's git identity (`user.name`, `user.email` as git resolves them in the project
 * folder: the project's own config, else the global one), for the workspace's ~/.gitconfig. No git
 * here, or nothing set: no identity, and `up` goes on.
 */
import { execFile } from 'node:child_process';
import type { GitIdentity } from '../../agent/protocol';

function gitConfig(cwd: string, key: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['config', '--get', key], { cwd, timeout: 5_000, encoding: 'utf8' }, (err, stdout) => {
      const v = err ? '' : stdout.trim();
      // What the agent takes: one line of 1 to 256 characters.
      resolve(
        v.length > 0 && v.length <= 256 && ![...v].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)
          ? v
          : undefined,
      );
    });
  });
}

export async function laptopGitIdentity(projectPath: string): Promise<GitIdentity | undefined> {
  const [name, email] = await Promise.all([gitConfig(projectPath, 'user.name'), gitConfig(projectPath, 'user.email')]);
  if (name === undefined && email === undefined) return undefined;
  return { ...(name !== undefined ? { name } : {}), ...(email !== undefined ? { email } : {}) };
}
