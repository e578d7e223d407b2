/**
 * Add Node: name, host, user, identity, then the node's host key (read with nodes/probeHostKey)
 * to confirm; nodes/add pins exactly the fingerprint shown and installs the agent (offering a
 * Node.js for it when the node has none).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { readdir } from 'node:fs/promises';
import * as vscode from 'vscode';
import { AddNode, ListNodes, ProbeHostKey, type AddNodeParams, type AddNodeResult } from '../../coordinator/protocol';
import { CancelledError } from '../errors';
import { askPick, askText } from '../ui/multiStepInput';
import { withCoordinatorProgress } from '../ui/progress';
import type { CommandContext } from './context';
import { runtimeChoice } from './runtimeChoice';
import { nodeNameProblem, parseHostPort, userProblem } from './targets';

const TITLE = 'Add Node';
const STEPS = 4;

interface IdentityItem extends vscode.QuickPickItem {
  identity: string | undefined | 'browse';
}

async function identityItems(): Promise<IdentityItem[]> {
  const sshDir = path.join(os.homedir(), '.ssh');
  let keys: string[] = [];
  try {
    keys = (await readdir(sshDir)).filter((f) => /^id_[a-z0-9_-]+$/.test(f)).sort();
  } catch {
    // no ~/.ssh
  }
  return [
    ...keys.map((k) => ({ label: `~/.ssh/${k}`, identity: path.join(sshDir, k) })),
    { label: 'Let Vendetta make a key', description: 'you then add its public key to the node', identity: undefined },
    { label: '$(folder-opened) Browse…', identity: 'browse' },
  ];
}

export async function addNode(ctx: CommandContext): Promise<AddNodeResult> {
  const existing = new Set((await ctx.client.request(ListNodes)).map((n) => n.name));
  const name = await askText({
    title: TITLE,
    step: 1,
    totalSteps: STEPS,
    prompt: 'A name for the node',
    placeholder: 'build-1',
    validate: (v) => nodeNameProblem(v.trim(), existing),
  }).then((v) => v.trim());
  const hostInput = await askText({
    title: TITLE,
    step: 2,
    totalSteps: STEPS,
    prompt: 'Host name or IP address of the node, with :port when it is not 22',
    placeholder: 'build-1.example.com or 10.0.0.5:2222',
    validate: (v) => {
      const r = parseHostPort(v);
      return 'problem' in r ? r.problem : undefined;
    },
  });
  const parsed = parseHostPort(hostInput);
  if ('problem' in parsed) throw new CancelledError();
  const user = await askText({
    title: TITLE,
    step: 3,
    totalSteps: STEPS,
    prompt: 'User to log in as',
    value: os.userInfo().username,
    validate: (v) => userProblem(v.trim()),
  }).then((v) => v.trim());
  const items = await identityItems();
  const chosen = await askPick({
    title: TITLE,
    step: 4,
    totalSteps: STEPS,
    placeholder: 'The SSH key to log in with',
    items,
  });
  let identity = chosen.identity;
  if (identity === 'browse') {
    const picked = await vscode.window.showOpenDialog({
      title: `${TITLE}: SSH private key`,
      canSelectMany: false,
      defaultUri: vscode.Uri.file(path.join(os.homedir(), '.ssh')),
      openLabel: 'Use Key',
    });
    if (!picked?.[0]) throw new CancelledError();
    identity = picked[0].fsPath;
  }

  const where = `${parsed.host}:${parsed.port ?? 22}`;
  const probe = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Reading the host key of ${where}…` },
    () => ctx.client.request(ProbeHostKey, { host: parsed.host, ...(parsed.port ? { port: parsed.port } : {}) }),
  );
  const replacing = probe.pinned !== null && probe.pinned !== probe.fingerprint;
  if (probe.pinned !== probe.fingerprint) {
    const trust = 'Trust and Add';
    const detail = [
      `${probe.keyType} ${probe.fingerprint}`,
      '',
      'Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the node.',
      ...(replacing ? ['', `This replaces the key pinned for ${where}: ${probe.pinned}`] : []),
    ].join('\n');
    const answer = await vscode.window.showWarningMessage(
      `Trust the host key of ${where} and add ${name}?`,
      { modal: true, detail },
      trust,
    );
    if (answer !== trust) throw new CancelledError();
  }

  const params: AddNodeParams = { name, host: parsed.host, user, hostKeyFingerprint: probe.fingerprint };
  if (parsed.port) params.port = parsed.port;
  if (identity) params.identity = identity;
  if (replacing) params.replaceHostKey = true;
  const add = () =>
    withCoordinatorProgress(
      ctx.client,
      `Adding node ${name}`,
      (progressToken, token) => ctx.client.request(AddNode, { ...params, progressToken }, token),
      { log: ctx.log },
    );
  let result: AddNodeResult;
  try {
    result = await add();
  } catch (err) {
    // No usable Node.js on the node: offer what the coordinator can bring; nothing without a yes.
    const choice = runtimeChoice(err);
    if (!choice) throw err;
    const picked = await vscode.window.showWarningMessage(
      choice.message,
      { modal: true, detail: choice.detail },
      ...choice.buttons.map((b) => b.label),
    );
    const how = choice.buttons.find((b) => b.label === picked)?.how;
    if (!how) throw err;
    params.installRuntime = how;
    result = await add();
  }
  ctx.refresh.request('reload');
  ctx.log.info(`Added node ${name} (${user}@${where}), host key ${result.hostKeyFingerprint}`);
  if (result.generatedPublicKey) {
    const copy = 'Copy Command';
    void vscode.window
      .showInformationMessage(
        `Added ${name}. Vendetta made a key for it; install it on the node with: ${result.generatedPublicKey.installHint}`,
        copy,
      )
      .then((c) => {
        if (c === copy) void vscode.env.clipboard.writeText(result.generatedPublicKey!.installHint);
      });
  } else {
    const n = result.node;
    void vscode.window.showInformationMessage(
      `Added ${name}: ${n.status}${n.agentVersion ? `, agent ${n.agentVersion}` : ''}.`,
    );
  }
  return result;
}
