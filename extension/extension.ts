/**
 * Activation only wires things up; each part lives in its own module. The Remote Nodes part is
 * loaded lazily, and the language server starts in the background, so activation stays short.
 */
import * as vscode from 'vscode';
import type { VendettaApi } from './activateRemoteNodes';
import { homeFromSettings } from './client/home';
import { startLanguageClient } from './languageClient';

export async function activate(context: vscode.ExtensionContext): Promise<VendettaApi> {
  const started = Date.now();
  const log = vscode.window.createOutputChannel('Vendetta', { log: true });
  context.subscriptions.push(log);
  const home = homeFromSettings(vscode.workspace.getConfiguration('vendetta'));
  startLanguageClient(context, home, log).then(
    (client) => context.subscriptions.push({ dispose: () => void client.stop() }),
    (err: unknown) => log.error('Failed to start the config language server', err),
  );
  const { activateRemoteNodes } = await import('./activateRemoteNodes.js');
  const api = activateRemoteNodes(context, log);
  log.info(`Activated in ${Date.now() - started} ms`);
  return api;
}

export function deactivate(): void {}
