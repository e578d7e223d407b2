#!/usr/bin/env node
// `npm run demo`: the main job on the built-in `local` node (this machine), no remote box needed:
// a Docker engine (started privately when none answers and we are root), the cached Debian image,
// `vendetta workspace up examples/hello --node local`, and the proof: the real OpenSSH client reads
// the project's README inside the workspace through the generated ssh_config; then the services,
// healthy, with the web page forwarded to this machine. `npm run demo -- --clean` removes it all.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanDemo } from './demo/clean.mjs';
import { ensureDocker } from './demo/docker.mjs';
import { ensurePackages } from './demo/packages.mjs';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'vendetta.js');
const project = join(root, 'examples', 'hello');
const home = resolve(process.env.VENDETTA_HOME || join(homedir(), '.vendetta'));
const sshConfig = join(home, 'ssh_config');
const say = (s) => process.stdout.write(s);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function runVendetta(args, title, opts = {}) {
  say(`\n▶ vendetta ${args.join(' ')}    # ${title}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], {
    stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (r.status !== 0 && !opts.allowFail) {
    process.stderr.write(
      `\ndemo: \`vendetta ${args.join(' ')}\` failed (exit ${r.status ?? r.signal}); see the error above.\n`,
    );
    process.exit(r.status ?? 1);
  }
  return r;
}

if (!existsSync(cli)) {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
}
if (process.argv.includes('--clean')) process.exit(await cleanDemo({ cli }));

runVendetta(['config', 'validate', project], 'check the example project’s .vendetta/config.yaml');

function mustHave(need, why) {
  const missing = ensurePackages(need, why, say);
  if (!missing) return;
  process.stderr.write(`\nerror: ${missing.error}\nhint: ${missing.hint}\n`);
  process.exit(1);
}

mustHave({ ssh: 'openssh-client' }, 'the proof at the end (the OpenSSH client)');
say('\n▶ Docker engine\n');
const docker = await ensureDocker(process.env, say);
if ('error' in docker) {
  process.stderr.write(`\nerror: ${docker.error}\nhint: ${docker.hint}\n`);
  // Still show what this machine can run, with the hints of each failed check.
  runVendetta(['node', 'test', 'local'], 'diagnose the local node step by step', { allowFail: true });
  process.exit(1);
}
say(
  docker.started
    ? `  started dockerd (pid ${docker.pid}) on ${docker.socket}; log ${docker.log}\n`
    : `  using the engine on ${docker.socket}${docker.pid ? ` (the private dockerd, pid ${docker.pid}, started by an earlier demo)` : ''}\n`,
);
// The CLI, the coordinator it starts and the local agent all find this engine.
const engineEnv = !process.env.DOCKER_HOST && docker.socket !== '/var/run/docker.sock';
if (engineEnv) process.env.DOCKER_HOST = `unix://${docker.socket}`;

say('\n▶ workspace image vendetta/debian:bookworm (debootstrap once, cached; then imported into the engine)\n');
const imageCache = process.env.VENDETTA_IMAGE_CACHE || join(homedir(), '.cache', 'vendetta', 'images');
if (!existsSync(join(imageCache, 'debian-bookworm.tar')))
  mustHave({ debootstrap: 'debootstrap' }, 'building the workspace image');
const t0 = Date.now();
const img = spawnSync(
  process.execPath,
  [join(root, 'scripts', 'image', 'build-debian-image.mjs'), '--import', '--docker-host', `unix://${docker.socket}`],
  { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
);
if (img.status !== 0) {
  process.stderr.write('\ndemo: building the workspace image failed; see the error above.\n');
  process.exit(1);
}
const report = JSON.parse(img.stdout.trim().split('\n').pop() ?? '{}');
say(
  `  ${report.built ? 'built' : 'cached'} ${report.tar ?? ''}${report.imported ? ', imported' : ', already in the engine'} — ${seconds(Date.now() - t0)}\n`,
);

runVendetta(['node', 'status', 'local'], 'start the coordinator and the local agent; ask this machine what it can run');
runVendetta(
  ['workspace', 'up', project, '--node', 'local'],
  'create the workspace: container, sshd with a pinned host key, code synced',
);
const st = runVendetta(['workspace', 'status', 'hello', '--json'], 'where it is and how to reach it', {
  capture: true,
});
const ws = JSON.parse(st.stdout);
say(
  `${JSON.stringify({ name: ws.name, node: ws.node, state: ws.state, sshHost: ws.sshHost, workspaceFolder: ws.workspaceFolder }, null, 2)}\n`,
);

const readme = `${ws.workspaceFolder}/README.md`;
say(
  `\n▶ ssh -F ${sshConfig} ${ws.sshHost} cat ${readme}    # the real OpenSSH client, through \`vendetta ssh-proxy\`\n`,
);
const ssh = spawnSync('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', ws.sshHost, 'cat', readme], {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
say(ssh.stdout ?? '');
if (ssh.status !== 0) {
  process.stderr.write(`\ndemo: ssh into ${ws.sshHost} failed (exit ${ssh.status ?? ssh.signal}).\n`);
  process.exit(1);
}

// The services: the web page, forwarded to this machine over the node's link, counts a visit
// through web → api → db.
say(
  `\n▶ vendetta workspace forward hello 8080:0    # carry the web service to a free port on this machine's 127.0.0.1\n`,
);
const fwd = spawn(process.execPath, [cli, 'workspace', 'forward', 'hello', '8080:0'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const forwarded = await new Promise((done) => {
  let out = '';
  const timer = setTimeout(() => done(undefined), 20_000);
  fwd.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    const m = /Forwarding (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (m) {
      clearTimeout(timer);
      // Up to the Forwarding line, with the notice before it when 8080 was taken here.
      const end = out.indexOf('\n', m.index);
      say(end < 0 ? `${out}\n` : out.slice(0, end + 1));
      done(m[1]);
    }
  });
  fwd.once('exit', () => done(undefined));
});
if (!forwarded) {
  fwd.kill('SIGINT');
  process.stderr.write('\ndemo: `vendetta workspace forward hello 8080` did not start; see the error above.\n');
  process.exit(1);
}
try {
  const page = await fetch(`${forwarded}/`);
  const visits = await (await fetch(`${forwarded}/api/visits`, { method: 'POST' })).text();
  say(
    `  GET  ${forwarded}/            → ${page.status} ${page.headers.get('content-type')}, ${(await page.text()).length} bytes\n`,
  );
  say(`  POST ${forwarded}/api/visits  → ${visits.trim()}    (web → api → db, inside the workspace)\n`);
} catch (err) {
  process.stderr.write(`\ndemo: the forwarded web service did not answer: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  fwd.kill('SIGINT');
}
runVendetta(['workspace', 'logs', 'hello', '--tail', '6'], 'the services’ logs, interleaved by time');

const pad = (cmd) => `  ${cmd.padEnd(55)}`;
say(`
Workspace ${ws.name} is ${ws.state} on node ${ws.node}; ssh alias ${ws.sshHost}.
Try:${engineEnv ? `\n  export DOCKER_HOST=${process.env.DOCKER_HOST}    # the engine the demo used; a local agent started later finds it through this` : ''}
${pad('npx vendetta workspace ssh hello')}# a shell inside it (OpenSSH with ${sshConfig})
${pad('npx vendetta workspace list')}# every workspace and its state
${pad(`npx vendetta workspace exec hello -- ls ${ws.workspaceFolder}`)}
${pad('npx vendetta workspace ports hello')}# each service, its port on the node, its health
${pad('npx vendetta workspace forward hello 8080')}# the page on http://127.0.0.1:8080 until Ctrl-C
${pad('npx vendetta workspace logs hello -f')}# follow every service's output
${pad('npx vendetta ssh-config install')}# then plain \`ssh ${ws.sshHost}\` and VS Code Remote-SSH work
${pad('npx vendetta node add build-1 --host HOST --user USER')}# add a Linux box you can SSH into
Clean up:
${pad('npm run demo -- --clean')}# the workspace, the coordinator, the local agent${docker.pid ? ', the private dockerd and its data' : ''}
`);
