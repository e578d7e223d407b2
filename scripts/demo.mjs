#!/usr/bin/env node
// `npm run demo`: the main job on the built-in `local` node (this machine), no remote box needed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'vendetta.js');
const project = join(root, 'examples', 'hello');

function vendetta(args, title, { allowFail = false } = {}) {
  process.stdout.write(`\n▶ vendetta ${args.join(' ')}    # ${title}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0 && !allowFail) {
    process.stderr.write(`\ndemo: \`vendetta ${args.join(' ')}\` failed (exit ${r.status}); see the error above.\n`);
    process.exit(r.status ?? 1);
  }
}

if (!existsSync(cli)) {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
}

vendetta(['config', 'validate', project], 'check the example project’s .vendetta/config.yaml');
vendetta(['node', 'status', 'local'], 'start the coordinator and the local agent; ask this machine what it can run');
// A machine with no Docker, LXC or QEMU yet fails this check: the demo shows it with the hints.
vendetta(['node', 'test', 'local'], 'diagnose the local node step by step', { allowFail: true });

process.stdout.write(`
Next:
  npx vendetta node add build-1 --host HOST --user USER   # add a Linux box you can SSH into
  npx vendetta node list                                  # every node, from the coordinator's cache
Clean up:
  npx vendetta coordinator stop                           # agents keep running on their nodes
`);
