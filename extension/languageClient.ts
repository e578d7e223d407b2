/**
 * Starts the config language server (dist/languageServer.js, its own bundle) over IPC for
 * `.vendetta/config.yaml` files and the node registry.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

export function vendettaHomeSetting(config: Pick<vscode.WorkspaceConfiguration, 'get'>): string {
  const configured = config.get<string>('home')?.trim();
  if (configured) return path.resolve(configured.replace(/^~(?=$|\/)/, os.homedir()));
  return process.env.VENDETTA_HOME || path.join(os.homedir(), '.vendetta');
}

export async function startLanguageClient(
  context: vscode.ExtensionContext,
  home: string,
  outputChannel: vscode.LogOutputChannel,
): Promise<LanguageClient> {
  const module = context.asAbsolutePath(path.join('dist', 'languageServer.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', pattern: '**/.vendetta/config.{yaml,yml}' },
      { scheme: 'untitled', language: 'yaml' },
      { scheme: 'file', pattern: path.join(home, 'nodes.yaml') },
    ],
    outputChannel,
  };
  const client = new LanguageClient('vendetta.config', 'Vendetta Config', serverOptions, clientOptions);
  await client.start();
  return client;
}
