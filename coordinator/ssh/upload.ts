/**
 * Puts a file on a node (the agent bundle, a Node.js runtime): to a temp name over SFTP (its
 * directory made while the session opens), or, when the node's sshd has no SFTP subsystem (as
 * hardened servers often do), through an exec channel's stdin, hashed as the bytes arrive. Then
 * one exec checks the checksum, proves a runtime runs and renames it into place. Each failure's
 * hint names what went wrong, from what the node said.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Client, SFTPWrapper } from 'ssh2';
import { withTimeout } from '../../common/async/timeout';
import { VendettaError } from '../errors';
import { execCollect, openExec } from './exec';
import type { LocalBundle } from './localBundle';
import { MAKE_PRIVATE_DIR, PROBE_PREFIX, RECEIVE_VERIFIED } from './remoteScripts';
import { shScript } from './shellQuote';

/** How long sending a file may take before the node counts as stuck (the bundle: a few hundred KiB). */
const TRANSFER_TIMEOUT_MS = 120_000;

export function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/**
 * ssh2's default (32 KiB writes, 64 in flight) moved a 100 MB Node.js at about half OpenSSH's
 * speed here; writes just under OpenSSH's 256 KiB limit, 16 in flight, come close to scp (ssh2
 * splits a write a smaller server limit cannot take). Faster here than the same bytes through
 * an exec channel, whose sshd → pipe → shell hop costs more than internal-sftp's direct write.
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

/** A local file to put on a node at `<dir>/<name>`. */
export interface UploadFile {
  path: string;
  sha256: string;
  /** Absolute directory on the node; made when missing. */
  dir: string;
  name: string;
  /** For messages: "the agent", "Node.js v20.1.0". */
  what: string;
  /** What to do when the local file cannot be read. */
  unreadableHint: string;
  /** Mode 700 instead of 600. */
  executable?: boolean;
  /** A Node.js on the node to hash with when it has neither OpenSSL nor sha256sum. */
  nodePath?: string;
  /** A directory above `dir` to make private (700): the agent's home. */
  privateDir?: string;
  /** The line `<file> --version` must print before the file is put in place (a runtime). */
  proveVersion?: string;
  timeoutMs?: number;
}

interface Received {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs RECEIVE_VERIFIED on the node: with `stdin`, streams the file into it; otherwise the file
 * is already there (SFTP). Resolves when the node's script has ended.
 */
async function install(
  client: Client,
  node: string,
  f: UploadFile,
  tmpName: string,
  from: 'stdin' | 'file',
): Promise<Received> {
  const channel = await openExec(
    client,
    node,
    shScript(RECEIVE_VERIFIED, [
      f.dir,
      tmpName,
      f.name,
      f.sha256,
      f.nodePath ?? '',
      f.executable ? 'exec' : '',
      f.proveVersion ?? '',
      f.privateDir ?? '',
      from,
    ]),
  );
  let stdout = '';
  let stderr = '';
  channel.on('data', (b: Buffer) => {
    stdout = (stdout + b.toString('utf8')).slice(-4096); // a login script's noise must not stall the channel
  });
  channel.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-4096);
  });
  const timeoutMs = f.timeoutMs ?? TRANSFER_TIMEOUT_MS;
  const received = new Promise<Received>((resolve, reject) => {
    const file = createReadStream(f.path);
    file.on('error', (err) => {
      channel.close();
      reject(
        new VendettaError('AGENT_INSTALL_FAILED', `Cannot read ${f.path}: ${err.message}`, {
          hint: f.unreadableHint,
          cause: err,
        }),
      );
    });
    channel.on('close', (code: number | null) => {
      file.destroy();
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
    if (from === 'stdin') file.pipe(channel);
    else {
      file.destroy();
      channel.end();
    }
  });
  return withTimeout(received, timeoutMs, () => {
    channel.close();
    return new VendettaError(
      'NODE_UNREACHABLE',
      `Sending ${f.what} to ${node} did not finish within ${timeoutMs / 1000} s`,
      {
        node,
        hint: `The link to ${node} is too slow or stalled; check it with \`vendetta node test ${node}\` and retry.`,
      },
    );
  });
}

/**
 * Puts `f` on the node (SFTP, else stdin of an exec channel); the node checks its checksum,
 * proves a runtime runs, and renames it into place; a damaged or failing copy is deleted. Two
 * coordinators doing it at once is harmless (each has its own temp name).
 * Resolves with what the node said when `proveVersion` was given and the file does not run.
 */
export async function uploadVerified(
  client: Client,
  node: string,
  f: UploadFile,
  log?: { info(m: string, f?: Record<string, unknown>): void },
): Promise<{ doesNotRun?: string }> {
  const tmpName = `.${f.name}.${randomBytes(6).toString('hex')}.tmp`;
  const [sftp, made] = await Promise.all([
    openSftp(client).catch((err: unknown) => {
      // No SFTP subsystem (hardened sshd): the same bytes go through an exec channel instead.
      log?.info('no SFTP on the node; sending the file through an exec channel', {
        node,
        what: f.what,
        error: (err as Error).message,
      });
      return undefined;
    }),
    execCollect(client, node, shScript(MAKE_PRIVATE_DIR, [f.dir, f.privateDir ?? ''])),
  ]);
  if (sftp) {
    try {
      if (made.code !== 0) throw failed(node, f.dir, `Cannot make ${f.dir} on ${node}`, made.stderr);
      await fastPut(sftp, f.path, `${f.dir}/${tmpName}`).catch((err: Error) => {
        throw failed(
          node,
          f.dir,
          `Uploading ${f.what} to ${node}:${f.dir}/${tmpName} over SFTP failed: ${err.message}`,
          err.message,
          err,
        );
      });
    } finally {
      sftp.end();
    }
  }
  const r = await install(client, node, f, tmpName, sftp ? 'file' : 'stdin');
  if (r.stdout.includes(`${PROBE_PREFIX}installed`)) return {};
  if (r.stdout.includes(`${PROBE_PREFIX}does-not-run`)) return { doesNotRun: r.stderr.trim() || 'no output' };
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
          : `${f.nodePath ? `Neither OpenSSL, sha256sum nor Node.js at ${f.nodePath}` : 'Neither OpenSSL nor sha256sum'} could hash the uploaded file on ${node}: check that \`sha256sum\` (coreutils) works there.`,
        details: { expected: f.sha256, actual: got },
      },
    );
  }
  throw failed(
    node,
    f.dir,
    sftp
      ? `Installing ${f.what} on ${node} failed: ${r.stderr.trim().slice(0, 300) || `exit ${r.code ?? 'unknown'}`}`
      : `Sending ${f.what} to ${node}:${f.dir}/${tmpName} failed (exit ${r.code ?? 'unknown'})`,
    r.stderr,
  );
}

/**
 * Uploads `bundle` to `<home>/.vendetta-agent/<dirName>/agent.js`. `nodePath` hashes it where
 * OpenSSL and sha256sum are missing (empty while a runtime is still on its way: one of them must exist then).
 */
export async function uploadBundle(
  client: Client,
  node: string,
  home: string,
  bundle: LocalBundle,
  nodePath: string,
  log?: { info(m: string, f?: Record<string, unknown>): void },
): Promise<void> {
  await uploadVerified(
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
      privateDir: `${home}/.vendetta-agent`,
    },
    log,
  );
}
