// Debian packages the demo needs, installed with apt-get when missing and we are root (a fresh
// machine); otherwise a clear message naming them. Only what `command -v` does not find.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function commandExists(cmd) {
  if (existsSync(`/usr/sbin/${cmd}`) || existsSync(`/sbin/${cmd}`)) return true;
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

/**
 * `need` maps a command to its Debian package. Returns undefined when all are there (after
 * installing the missing ones as root), else `{ error, hint }`.
 */
export function ensurePackages(need, why, say = (s) => process.stdout.write(s)) {
  const pkgs = [
    ...new Set(
      Object.entries(need)
        .filter(([cmd]) => !commandExists(cmd))
        .map(([, pkg]) => pkg),
    ),
  ].sort();
  if (pkgs.length === 0) return undefined;
  const install = `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  if (process.getuid?.() !== 0 || !commandExists('apt-get')) {
    return {
      error: `${why} needs ${pkgs.join(', ')}, which ${pkgs.length === 1 ? 'is' : 'are'} not installed`,
      hint: `Install ${pkgs.length === 1 ? 'it' : 'them'} as root (\`${install}\`), then run \`npm run demo\` again.`,
    };
  }
  say(`  installing ${pkgs.join(' ')} (${why}): apt-get update && ${install}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const r =
    update.status === 0
      ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
          stdio: ['ignore', 'ignore', 'inherit'],
          env,
        })
      : update;
  if (r.status !== 0)
    return {
      error: `installing ${pkgs.join(', ')} failed (apt-get exit ${r.status})`,
      hint: `See apt-get's message above; fix it, or run \`${install}\` yourself.`,
    };
  return undefined;
}
