/** Test Node: every check `vendetta node test` runs, one line each, in the "Vendetta: Node Test" channel. */
import * as vscode from 'vscode';
import { TestNode, type TestNodeResult, type TestStep } from '../../coordinator/protocol';
import type { CommandContext } from './context';
import { resolveNode } from './pickers';

let channel: vscode.OutputChannel | undefined;

export function formatTestStep(s: TestStep): string[] {
  const mark = s.ok ? '✓' : s.optional ? '–' : '✗';
  const lines = [`${mark} ${s.name.padEnd(24)} ${String(Math.round(s.elapsedMs)).padStart(5)} ms  ${s.detail}`];
  if (!s.ok && s.hint) lines.push(`    hint: ${s.hint}`);
  return lines;
}

export async function testNode(ctx: CommandContext, arg?: unknown): Promise<TestNodeResult> {
  const node = await resolveNode(ctx, arg, { title: 'Test Node' });
  if (!channel) {
    channel = vscode.window.createOutputChannel('Vendetta: Node Test');
    ctx.extension.subscriptions.push(channel);
  }
  const out = channel;
  out.show(true);
  out.appendLine(
    `Testing ${node.name} (${node.transport === 'local' ? 'this machine' : `${node.user}@${node.host}:${node.port}`})…`,
  );
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Testing ${node.name}…` },
    () => ctx.client.request(TestNode, { name: node.name }),
  );
  for (const s of result.steps) for (const line of formatTestStep(s)) out.appendLine(line);
  out.appendLine(result.ok ? `${node.name}: all checks passed\n` : `${node.name}: some checks failed\n`);
  if (!result.ok) void vscode.window.showWarningMessage(`${node.name} failed some checks; see "Vendetta: Node Test".`);
  return result;
}
