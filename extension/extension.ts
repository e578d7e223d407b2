/** Activation only wires things up; each part lives in its own module. */
import * as vscode from 'vscode';
import { startLanguageClient, vendettaHomeSetting } from './languageClient';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('Vendetta', { log: true });
  context.subscriptions.push(log);
  const home = vendettaHomeSetting(vscode.workspace.getConfiguration('vendetta'));
  try {
    const client = await startLanguageClient(context, home, log);
    context.subscriptions.push({ dispose: () => void client.stop() });
  } catch (err) {
    log.error('Failed to start the config language server', err);
  }
}

export function deactivate(): void {}
