/** The one place provider probes touch the machine. Nothing reaches a shell: argv arrays only. */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:http';
import type { Probe, ProbeOutcome, ProbeRunner } from './contract';
import { errnoCode } from '../errors';

/** Probes read small answers; a peer sending more is not the peer we want. */
const MAX_BODY = 1024 * 1024;

/** Where packages put binaries; an SSH exec channel's PATH may lack the sbin and snap ones. */
const EXTRA_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/snap/bin'];

export function probePath(current: string | undefined): string {
  const parts = (current ?? '').split(':').filter(Boolean);
  for (const p of EXTRA_PATH) if (!parts.includes(p)) parts.push(p);
  return parts.join(':');
}

/** The executable `name` in the probe PATH's folders, or undefined. */
export function findOnPath(name: string, current: string | undefined): string | undefined {
  for (const dir of probePath(current).split(':')) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export const nodeProbeRunner: ProbeRunner = {
  run(probe: Probe, timeoutMs: number): Promise<ProbeOutcome> {
    switch (probe.kind) {
      case 'http-unix':
        return httpGet(probe.socketPath, probe.path, timeoutMs);
      case 'exec':
        return run(probe.file, probe.args, timeoutMs);
      case 'access':
        return accessCheck(probe.path, probe.mode);
    }
  },
};

function httpGet(socketPath: string, path: string, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = request(
      { socketPath, path, method: 'GET', headers: { Host: 'localhost', Accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            req.destroy();
            finish({ ok: false, code: 'ETOOBIG', message: `answer larger than ${MAX_BODY} bytes` });
          } else {
            chunks.push(c);
          }
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          finish(
            status >= 200 && status < 300
              ? { ok: true, status, body }
              : { ok: false, code: `HTTP${status}`, message: `HTTP ${status}`, status, body },
          );
        });
        res.on('error', (err) => finish({ ok: false, code: errnoCode(err) ?? 'EIO', message: err.message }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ ok: false, code: 'ETIMEDOUT', message: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (err) => finish({ ok: false, code: errnoCode(err) ?? 'EIO', message: err.message }));
    req.end();
  });
}

function run(file: string, args: string[], timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: timeoutMs,
        maxBuffer: MAX_BODY,
        env: { ...process.env, PATH: probePath(process.env.PATH), LC_ALL: 'C' },
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ ok: true, status: 0, body: stdout });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        const code = e.killed ? 'ETIMEDOUT' : typeof e.code === 'string' ? e.code : `EXIT${e.code ?? '?'}`;
        resolve({ ok: false, code, message: (stderr || e.message).trim().slice(0, 500), body: stdout });
      },
    );
  });
}

async function accessCheck(path: string, mode: 'rw' | 'r'): Promise<ProbeOutcome> {
  try {
    await access(path, mode === 'rw' ? constants.R_OK | constants.W_OK : constants.R_OK);
    return { ok: true, status: 0, body: '' };
  } catch (err) {
    return { ok: false, code: errnoCode(err) ?? 'EIO', message: (err as Error).message };
  }
}
