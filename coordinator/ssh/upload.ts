/**
 * Puts a file on a node (the agent bundle, a Node.js runtime): to a temp name (over SFTP, or through an exec channel's stdin
 * when the node's sshd has no SFTP subsystem, as hardened servers often do), checksum verified
 * there, atomic rename. Each failure's hint names what went wrong, from what the node said.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Client, SFTPWrapper } from 'ssh2';
import { VendettaError } from '../errors';
import { execCollect, openExec } from './exec';
import type { LocalBundle } from './localBundle';
import { PROBE_PREFIX, RECEIVE_FILE, VERIFY_AND_RENAME } from './remoteScripts';
import { shScript } from './shellQuote';

/** How long sending a file may take before the node counts as stuck (the bundle: a few hundred KiB). */
const TRANSFER_TIMEOUT_MS = 120_000;

export function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/**
 * ssh2's default (32 KiB writes, 64 in flight) moved a 100 MB Node.js at about half OpenSSH's
 * speed here; writes just under OpenSSH's 256 KiB limit, 16 in flight, come close to scp (ssh2
 * splits a write a smaller server limit cannot take).
 */
const PUT_OPTIONS = { mode: 0o600, chunkSize: 255 * 1024, concurrency: 16 };

function fastPut(sftp: SFTPWrapper, local: string, remote: string): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.fastPut(local, remote, PUT_OPTIONS, (err) => (err ? reject(err) : resolve())),
  );
}

/**
 * The cause a person can act on, read from what the node said (an errno text in SFTP's or the
 * shell's message); undefined when it says nothing we recognise.
 */
export function installHint(node: string, dir: string, said: string): string | undefined {
  if (/No space left|ENOSPC|quota exceeded|EDQUOT/i.test(said))
    return `The disk holding ${dir} on ${node} is full (or over quota): free some space there (\`df -h ~\`), then retry.`;
  if (/Read-only file system|EROFS/i.test(said))
    return `${dir} on ${node} sits on a read-only file system: give the SSH user a writable home, then retry.`;
  if (/Permission denied|EACCES|EPERM/i.test(said))
    return `The SSH user cannot write ${dir} on ${node}: make it the owner of that folder, with write permission (\`ls -ld ${dir}\`), then retry.`;
  return undefined;
}

function failed(node: string, dir: string, message: string, said: string, cause?: unknown): VendettaError {
  return new VendettaError('AGENT_INSTALL_FAILED', message, {
    node,
    hint:
      installHint(node, dir, said) ??
      `The node said: ${said.trim().slice(0, 200) || 'nothing'}. \`vendetta node test ${node}\` shows each step.`,
    cause,
  });
}

/** Streams a file into `cat` on the node (RECEIVE_FILE): for sshds without SFTP. */
async function sendThroughExec(client: Client, node: string, f: UploadFile, remote: string): Promise<void> {
  const channel = await openExec(client, node, shScript(RECEIVE_FILE, [remote]));
  let stderr = '';
  channel.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-4096);
  });
  channel.on('data', () => undefined); // a login script's noise must not stall the channel
  const timeoutMs = f.timeoutMs ?? TRANSFER_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      channel.close();
      reject(
        new VendettaError(
          'NODE_UNREACHABLE',
          `Sending ${f.what} to ${node} did not finish within ${timeoutMs / 1000} s`,
          {
            node,
            hint: `The link to ${node} is too slow or stalled; check it with \`vendetta node test ${node}\` and retry.`,
          },
        ),
      );
    }, timeoutMs);
    const file = createReadStream(f.path);
    file.on('error', (err) => {
      clearTimeout(timer);
      channel.close();
      reject(
        new VendettaError('AGENT_INSTALL_FAILED', `Cannot read ${f.path}: ${err.message}`, {
          hint: f.unreadableHint,
          cause: err,
        }),
      );
    });
    channel.on('close', (code: number | null) => {
      clearTimeout(timer);
      file.destroy();
      if (code === 0) resolve();
      else
        reject(
          failed(node, f.dir, `Sending ${f.what} to ${node}:${remote} failed (exit ${code ?? 'unknown'})`, stderr),
        );
    });
    file.pipe(channel);
  });
}

/** A local file to put on a node at `<dir>/<name>` (the directory exists). */
export interface UploadFile {
  path: string;
  sha256: string;
  /** Absolute directory on the node. */
  dir: string;
  name: string;
  /** For messages: "the agent", "Node.js v20.1.0". */
  what: string;
  /** What to do when the local file cannot be read. */
  unreadableHint: string;
  /** Mode 700 instead of 600. */
  executable?: boolean;
  /** A Node.js on the node to hash with when it has no sha256sum. */
  nodePath?: string;
  timeoutMs?: number;
}

/**
 * Uploads to a temp name (SFTP, else `cat` on an exec channel), verifies the sha256 on the node
 * and renames into place; a damaged copy is deleted. Two coordinators doing it at once is harmless.
 */
export async function uploadVerified(
  client: Client,
  node: string,
  f: UploadFile,
  log?: { info(m: string, f?: Record<string, unknown>): void },
): Promise<{ via: 'sftp' | 'exec' }> {
  const final = `${f.dir}/${f.name}`;
  const tmp = `${f.dir}/.${f.name}.${randomBytes(6).toString('hex')}.tmp`;
  let via: 'sftp' | 'exec' = 'sftp';
  let sftp: SFTPWrapper | undefined;
  try {
    sftp = await openSftp(client);
  } catch (err) {
    // No SFTP subsystem (hardened sshd): the same bytes go through `cat` instead.
    log?.info('no SFTP on the node; sending the file through an exec channel', {
      node,
      what: f.what,
      error: (err as Error).message,
    });
    via = 'exec';
  }
  if (sftp) {
    try {
      await fastPut(sftp, f.path, tmp);
    } catch (err) {
      throw failed(
        node,
        f.dir,
        `Uploading ${f.what} to ${node}:${tmp} over SFTP failed: ${(err as Error).message}`,
        (err as Error).message,
        err,
      );
    } finally {
      sftp.end();
    }
  } else {
    await sendThroughExec(client, node, f, tmp);
  }
  const r = await execCollect(
    client,
    node,
    shScript(VERIFY_AND_RENAME, [tmp, f.sha256, final, f.nodePath ?? '', f.executable ? 'exec' : '']),
    { timeoutMs: 120_000 },
  );
  if (r.stdout.includes(`${PROBE_PREFIX}installed`)) return { via };
  const got = /checksum (\S*)/.exec(r.stdout)?.[1];
  if (got !== undefined) {
    const capitalised = f.what.charAt(0).toUpperCase() + f.what.slice(1);
    throw new VendettaError(
      'AGENT_INSTALL_FAILED',
      `${capitalised} arrived damaged on ${node} (sha256 ${got || 'unreadable'}, expected ${f.sha256}); the damaged copy was deleted`,
      {
        node,
        hint: got
          ? `The bytes changed on the way or on the node's disk: retry; if it happens again, check the disk of ${node} (\`dmesg\`, \`df -h ~\`).`
          : `${f.nodePath ? `Neither sha256sum nor Node.js at ${f.nodePath}` : 'sha256sum'} could not read the uploaded file on ${node}: check that \`sha256sum\` (coreutils) works there.`,
        details: { expected: f.sha256, actual: got, via },
      },
    );
  }
  throw failed(
    node,
    f.dir,
    `Installing ${f.what} on ${node} failed: ${r.stderr.trim().slice(0, 300) || `exit ${r.code}`}`,
    r.stderr,
  );
}

/**
 * Uploads `bundle` to `<home>/.vendetta-agent/<dirName>/agent.js` (the directory exists: the
 * probe made it).
 */
export function uploadBundle(
  client: Client,
  node: string,
  home: string,
  bundle: LocalBundle,
  nodePath: string,
  log?: { info(m: string, f?: Record<string, unknown>): void },
): Promise<{ via: 'sftp' | 'exec' }> {
  return uploadVerified(
    client,
    node,
    {
      path: bundle.path,
      sha256: bundle.sha256,
      dir: `${home}/.vendetta-agent/${bundle.dirName}`,
      name: 'agent.js',
      what: 'the agent',
      unreadableHint:
        'Reinstall vendetta (or run `npm run build` in a source checkout) so that dist/agent.js is complete.',
      nodePath,
    },
    log,
  );
}
