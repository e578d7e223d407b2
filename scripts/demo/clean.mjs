// `npm run demo -- --clean`: removes what the demo made, in the order that leaves nothing running on
// something removed: the workspace (container, folder, ssh_config block, known_hosts line), the
// coordinator, the local agent daemon, then the private dockerd (processes, mounts, the bridge it
// made, and $VENDETTA_HOME/demo). The cached image tarball stays (it saves a minute next time).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { dockerdDir, pidAlive, readState, vendettaHome } from './docker.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function stopPid(pid, what, say, graceMs) {
  if (!pid || !pidAlive(pid)) return;
  say(`  stopping ${what} (pid ${pid})\n`);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (const until = Date.now() + graceMs; Date.now() < until; await sleep(100)) if (!pidAlive(pid)) return;
  say(`  ${what} did not stop within ${graceMs / 1000} s: killing it\n`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  for (const until = Date.now() + 5_000; Date.now() < until; await sleep(100)) if (!pidAlive(pid)) return;
}

/** Mount points at or under `dir` (deepest first), from this process's mount table. */
function mountsUnder(dir) {
  const unescape = (p) => p.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Removes `dir` and the folders under it, deepest first, as long as they hold no file. */
function removeEmptyFolders(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeEmptyFolders(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // not empty: something else uses it now
  }
}

/** Runs the clean-up; returns the exit code (0 when everything the demo made is gone). */
export async function cleanDemo({ cli, env = process.env, say = (s) => process.stdout.write(s) }) {
  const home = vendettaHome(env);
  const dir = dockerdDir(env);
  const state = readState(join(dir, 'dockerd.json'));
  const engineUp = state?.pid && pidAlive(state.pid);
  const childEnv = { ...env, ...(engineUp && !env.DOCKER_HOST ? { DOCKER_HOST: `unix://${state.socket}` } : {}) };
  let failed = false;
  const vendetta = (args, title) => {
    say(`\n▶ vendetta ${args.join(' ')}    # ${title}\n`);
    const r = spawnSync(process.execPath, [cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      env: childEnv,
      timeout: 120_000,
    });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    say(out.replace(/^/gm, '  '));
    return { ok: r.status === 0, out };
  };
  const rm = vendetta(['workspace', 'rm', 'hello', '--force'], 'container, folder, ssh_config block, known_hosts line');
  if (!rm.ok && !/There is no workspace named hello/.test(rm.out)) failed = true;
  vendetta(['coordinator', 'stop'], 'the coordinator');

  say('\n▶ the local agent daemon and the private Docker engine\n');
  const agentPidFile = join(home, 'local-agent', 'daemon.pid');
  if (existsSync(agentPidFile)) await stopPid(readState(agentPidFile)?.pid, 'the local agent daemon', say, 10_000);
  if (state) {
    await stopPid(state.pid, 'the private dockerd', say, 30_000);
    if (state.pid && pidAlive(state.pid)) {
      say(`  error: the private dockerd (pid ${state.pid}) is still running; its folder ${dir} is kept\n`);
      return 1;
    }
    for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m], { stdio: 'inherit' });
    for (const d of state.runDirsMade ?? []) removeEmptyFolders(d);
    if (state.bridge && spawnSync('ip', ['link', 'show', state.bridge], { stdio: 'ignore' }).status === 0) {
      say(`  removing the bridge ${state.bridge} it made\n`);
      spawnSync('ip', ['link', 'delete', state.bridge], { stdio: 'inherit' });
    }
  }
  const demoDir = join(home, 'demo');
  if (existsSync(demoDir)) {
    say(`  removing ${demoDir} (the engine's socket, state, images and log)\n`);
    rmSync(demoDir, { recursive: true, force: true });
  }
  const cache = env.VENDETTA_IMAGE_CACHE || join(homedir(), '.cache', 'vendetta', 'images');
  say(
    `\n${failed ? 'Clean-up incomplete (see above).' : 'Cleaned up.'} Kept: the image cache ${cache} (rm -r it to rebuild from scratch).\n`,
  );
  return failed ? 1 : 0;
}
