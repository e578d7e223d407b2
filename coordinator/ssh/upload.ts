/** Puts the agent bundle on a node: SFTP to a temp name, checksum verified there, atomic rename. */
import { randomBytes } from 'node:crypto';
import type { Client, SFTPWrapper } from 'ssh2';
import { VendettaError } from '../errors';
import { execCollect } from './exec';
import type { LocalBundle } from './localBundle';
import { PROBE_PREFIX, VERIFY_AND_RENAME } from './remoteScripts';
import { shScript } from './shellQuote';

function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

function fastPut(sftp: SFTPWrapper, local: string, remote: string): Promise<void> {
  return new Promise((resolve, reject) => sftp.fastPut(local, remote, { mode: 0o600 }, (err) => (err ? reject(err) : resolve())));
}

function failed(node: string, message: string, cause?: unknown): VendettaError {
  return new VendettaError('AGENT_INSTALL_FAILED', message, {
    node,
    hint: `Check free space and permissions of ~/.vendetta-agent on ${node}; \`vendetta node test ${node}\` shows each step.`,
    cause,
  });
}

/**
 * Uploads `bundle` to `<home>/.vendetta-agent/<dirName>/agent.js` (the directory exists: the
 * probe made it). Another coordinator installing the same bundle at once is harmless.
 */
export async function uploadBundle(client: Client, node: string, home: string, bundle: LocalBundle, nodePath: string): Promise<void> {
  const dir = `${home}/.vendetta-agent/${bundle.dirName}`;
  const final = `${dir}/agent.js`;
  const tmp = `${dir}/.agent.js.${randomBytes(6).toString('hex')}.tmp`;
  let sftp: SFTPWrapper;
  try {
    sftp = await openSftp(client);
  } catch (err) {
    throw failed(node, `${node} has no SFTP service to receive the agent`, err);
  }
  try {
    await fastPut(sftp, bundle.path, tmp);
  } catch (err) {
    throw failed(node, `Uploading the agent to ${node}:${tmp} failed: ${(err as Error).message}`, err);
  } finally {
    sftp.end();
  }
  const r = await execCollect(client, node, shScript(VERIFY_AND_RENAME, [tmp, bundle.sha256, final, nodePath]));
  if (!r.stdout.includes(`${PROBE_PREFIX}installed`)) {
    const got = /checksum (\S*)/.exec(r.stdout)?.[1];
    throw failed(node, got !== undefined
      ? `The agent arrived damaged on ${node} (sha256 ${got || 'unreadable'}, expected ${bundle.sha256})`
      : `Installing the agent on ${node} failed: ${r.stderr.trim().slice(0, 300) || `exit ${r.code}`}`);
  }
}
