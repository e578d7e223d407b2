// A daemon that `attach` starts says on a pipe when it listens, so attach connects then instead
// of polling the socket.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { connectOrStart } from '../../../agent/attach/attach';
import { agentPaths } from '../../../agent/home';
import { AGENT_HOME_ENV, AGENT_READY_FD_ENV } from '../../../agent/protocol';
import { nullLogger } from '../../../agent/log/logger';

const AGENT_JS = join(__dirname, '..', '..', '..', 'dist', 'agent.js');

describe('agent attach: waiting for the daemon it starts', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'vendetta-ready-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('connects once the daemon said it is ready, not when the socket merely answers', async function () {
    this.timeout(30_000);
    const paths = agentPaths(home);
    const log = join(home, 'order.log');
    // Listens at once, says "ready" 1.5 s later, and notes whether the first client came before that.
    const fake = `
      const fs = require('fs'); let told = false;
      require('net').createServer((c) => { fs.appendFileSync(${JSON.stringify(log)}, told ? 'after\\n' : 'before\\n'); c.end(); })
        .listen(${JSON.stringify(paths.socket)}, () => setTimeout(() => { told = true; fs.writeSync(3, 'ready\\n'); }, 1500));
      setTimeout(() => process.exit(0), 10000);`;
    let pid: number | undefined;
    const socket = await connectOrStart({
      paths,
      logger: nullLogger,
      startTimeoutMs: 20_000,
      startDaemon: () => {
        const p = spawn(process.execPath, ['-e', fake], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
        pid = p.pid;
        return p;
      },
    });
    socket.destroy();
    try {
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(readFileSync(log, 'utf8'), 'after\n');
    } finally {
      if (pid) process.kill(pid);
    }
  });

  it('waits for a daemon started beside it instead of starting a second one, and starts its own when none comes', async function () {
    this.timeout(30_000);
    const paths = agentPaths(home);
    mkdirSync(home, { recursive: true });
    const listenLater = (ms: number) =>
      spawn(
        process.execPath,
        [
          '-e',
          `setTimeout(() => require('net').createServer((c) => c.end()).listen(${JSON.stringify(paths.socket)}, () => { try { require('fs').writeSync(3, 'ready\\n'); } catch {} }), ${ms}); setTimeout(() => process.exit(0), 10000);`,
        ],
        { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] },
      );
    const beside = listenLater(600); // what the setup script starts
    try {
      const s = await connectOrStart({
        paths,
        logger: nullLogger,
        startedElsewhereMs: 10_000,
        startDaemon: () => {
          throw new Error('must not start a second daemon');
        },
      });
      s.destroy();
    } finally {
      beside.kill();
    }
    rmSync(paths.socket, { force: true });
    // Nobody started one after all: after the grace it starts its own.
    let started = 0;
    let own: ReturnType<typeof listenLater> | undefined;
    try {
      const s = await connectOrStart({
        paths,
        logger: nullLogger,
        startedElsewhereMs: 300,
        startDaemon: () => {
          started++;
          own = listenLater(0);
          return own;
        },
      });
      s.destroy();
      assert.equal(started, 1);
    } finally {
      own?.kill();
    }
  });

  it('the real daemon writes "ready" on the fd it is given once its socket listens', async function () {
    this.timeout(30_000);
    const paths = agentPaths(home);
    const p = spawn(process.execPath, [AGENT_JS, 'daemon'], {
      stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
      env: { ...process.env, [AGENT_HOME_ENV]: home, [AGENT_READY_FD_ENV]: '3' },
    });
    try {
      const said = await new Promise<string>((resolve, reject) => {
        let got = '';
        (p.stdio[3] as Readable).on('data', (b: Buffer) => (got += b.toString()));
        (p.stdio[3] as Readable).on('end', () => resolve(got));
        p.once('exit', (code) => reject(new Error(`the daemon exited (${code}) before it was ready`)));
      });
      assert.equal(said, 'ready\n', 'one line, then the pipe is closed');
      // It listens by then: attach connects without starting another.
      const s = await connectOrStart({
        paths,
        logger: nullLogger,
        startDaemon: () => {
          throw new Error('must not start a second daemon');
        },
      });
      s.destroy();
    } finally {
      p.kill();
    }
  });
});
