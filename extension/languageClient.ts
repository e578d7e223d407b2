/**
 * Starts the config language server (dist/languageServer.js, its own bundle) over IPC for
 * `.vendetta/config.yaml` files and the node registry.
 *
 * Red Hat's YAML extension, when installed and validating, reports YAML syntax errors in every
 * YAML file; ours for the same text are dropped then so no error shows twice. Schema errors stay
 * ours alone: the extension contributes no `yamlValidation` for these files.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
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
    middleware: {
      handleDiagnostics(uri, diagnostics, next) {
        next(uri, redHatYamlValidates() ? diagnostics.filter((d) => !isYamlSyntaxDiagnostic(d)) : diagnostics);
      },
    },
  };
  const client = new LanguageClient('vendetta.config', 'Vendetta Config', serverOptions, clientOptions);
  await client.start();
  return client;
}

export const RED_HAT_YAML = 'redhat.vscode-yaml';

function redHatYamlValidates(): boolean {
  return vscode.extensions.getExtension(RED_HAT_YAML) !== undefined && vscode.workspace.getConfiguration('yaml').get<boolean>('validate', true);
}

function isYamlSyntaxDiagnostic(d: vscode.Diagnostic): boolean {
  const code = typeof d.code === 'object' ? d.code.value : d.code;
  return code === 'yaml-syntax';
}
