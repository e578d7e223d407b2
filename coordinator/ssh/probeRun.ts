/**
 * The setup script on a node (remoteScripts.ts probeScript), run on an exec channel: what it
 * found, and, when it attached, the agent's JSON-RPC stream. Right after an install it can
 * start the daemon and report its socket instead, so that no `attach` process runs (freshProbe).
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import type { LogParams } from '../../agent/protocol';
import { VendettaError } from '../errors';
import type { Logger } from '../log';
import { openDirectAgent, type DirectAgent } from './agentDirect';
import { openExec } from './exec';
import type { LocalBundle } from './localBundle';
import {
  ATTACH_MARKER,
  NODE_CANDIDATES,
  parseProbe,
  probeScript,
  type NodeRuntime,
  type ProbeResult,
} from './remoteScripts';
import { shScript } from './shellQuote';

export interface ProbeRun {
  probe: ProbeResult;
  /** Its output lines (facts of the platform follow `runtime-missing`). */
  lines: string[];
  channel: ClientChannel;
  /** The agent's JSON-RPC stream (after the marker), when the script attached. */
  body?: Readable;
  stderrTail(): string;
}

const PROBE_TIMEOUT_MS = 30_000;

export interface ProbeOptions {
  /** Make the bundle's directory when it is missing (an upload follows). */
  install: boolean;
  /** The bundle was just installed, so no daemon of it can run: the script starts one at once. */
  fresh?: boolean;
  /** A runtime and the version it was just proven to print: used without searching again. */
  known?: NodeRuntime;
  /** With `fresh`: wait for the daemon to listen and say where, instead of running attach. */
  direct?: boolean;
}

/** Runs the probe script; in `attach` mode the channel becomes the agent's stdio. */
export async function runProbe(
  client: Client,
  node: string,
  bundle: LocalBundle,
  mode: 'attach' | 'probe',
  o: ProbeOptions,
): Promise<ProbeRun> {
  const channel = await openExec(
    client,
    node,
    shScript(probeScript(NODE_CANDIDATES), [
      bundle.dirName,
      bundle.sha256,
      mode,
      o.install ? 'mkdir' : '',
      o.fresh ? 'start' : '',
      o.known?.path ?? '',
      o.known?.version ?? '',
      o.direct ? 'direct' : '',
    ]),
  );
  let stderr = '';
  channel.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-4096);
  });
  const stderrTail = () => stderr.trim();
  return new Promise<ProbeRun>((resolve, reject) => {
    // The script runs `node --version` and a checksum: seconds at most, unless the node is wedged.
    const timer = setTimeout(() => {
      channel.removeListener('data', onData);
      channel.removeListener('close', onClose);
      channel.close();
      reject(attachFailed(node, `the setup script did not finish within ${PROBE_TIMEOUT_MS / 1000} s`, stderrTail()));
    }, PROBE_TIMEOUT_MS);
    const lines: string[] = [];
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let nl: number;
      while ((nl = buf.indexOf(10)) >= 0) {
        const line = buf.subarray(0, nl).toString('utf8');
        buf = buf.subarray(nl + 1);
        if (lines.length < 500) lines.push(line);
        if (line === ATTACH_MARKER) {
          clearTimeout(timer);
          channel.removeListener('data', onData);
          channel.removeListener('close', onClose);
          channel.pause();
          const body = new PassThrough();
          if (buf.length) body.write(buf);
          channel.pipe(body);
          resolve({ probe: parseProbe(lines), lines, channel, body, stderrTail });
          return;
        }
      }
    };
    const onClose = () => {
      clearTimeout(timer);
      if (buf.length) lines.push(buf.toString('utf8'));
      resolve({ probe: parseProbe(lines), lines, channel, stderrTail });
    };
    channel.on('data', onData);
    channel.once('close', onClose);
  });
}

export function attachFailed(node: string, why: string, stderr: string, cause?: unknown): VendettaError {
  return new VendettaError(
    'AGENT_ERROR',
    `The agent on ${node} did not start: ${why}${stderr ? ` (${stderr.split('\n').slice(-3).join(' | ').slice(0, 400)})` : ''}`,
    {
      node,
      hint: `\`vendetta node test ${node}\` shows which step fails; the agent's own log is under ~/.vendetta-agent on the node.`,
      cause,
    },
  );
}

/**
 * The probe right after an install, which starts our daemon. With `direct` it waits until the
 * daemon listens and we open a streamlocal channel to its socket: no `attach` Node.js starts.
 * When the node refuses that channel (AllowStreamLocalForwarding), `direct.refused` is told and
 * the probe attaches to the daemon as before.
 */
export async function freshProbe(
  client: Client,
  o: {
    node: string;
    bundle: LocalBundle;
    log: Logger;
    onLog?: (p: LogParams) => void;
    direct?: { refused(): void };
  },
  known?: NodeRuntime,
): Promise<{ run: ProbeRun; direct?: DirectAgent }> {
  const run = await runProbe(client, o.node, o.bundle, 'attach', {
    install: true,
    fresh: true,
    ...(known ? { known } : {}),
    direct: !!o.direct,
  });
  const socket = run.probe.daemonReady;
  if (!socket) return { run };
  const d = await openDirectAgent(client, { node: o.node, socket, buildId: o.bundle.buildId, onLog: o.onLog });
  if (d.agent) return { run, direct: d.agent };
  o.log.debug('no streamlocal channel to the agent', { node: o.node, socket, reason: d.refused });
  o.direct?.refused();
  return { run: await runProbe(client, o.node, o.bundle, 'attach', { install: true, ...(known ? { known } : {}) }) };
}
