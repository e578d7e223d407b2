/**
 * Starts the config language server (dist/languageServer.js, its own bundle) over IPC for
 * `.vendetta/config.yaml` files and the node registry — lazily, when the first such document is
 * open, so activation neither loads vscode-languageclient nor waits for the server.
 *
 * Red Hat's YAML extension, when installed and validating, reports YAML syntax errors in every
 * YAML file; ours for the same text are dropped then so no error shows twice. Schema errors stay
 * ours alone: the extension contributes no `yamlValidation` for these files.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';

export interface ConfigLanguageClient {
  /** Resolves once the server runs (started by the first config document), or never if none opens. */
  readonly started: Promise<void>;
  stop(): Promise<void>;
}

/** Fits both VS Code's DocumentSelector and the language client's. */
type ConfigDocumentFilter = { scheme: string; pattern: string } | { scheme: string; language: string };

function documentSelector(home: string): ConfigDocumentFilter[] {
  return [
    { scheme: 'file', pattern: '**/.vendetta/config.{yaml,yml}' },
    { scheme: 'untitled', language: 'yaml' },
    { scheme: 'file', pattern: path.join(home, 'nodes.yaml') },
  ];
}

export async function startLanguageClient(
  context: vscode.ExtensionContext,
  home: string,
  outputChannel: vscode.LogOutputChannel,
): Promise<ConfigLanguageClient> {
  const selector = documentSelector(home);
  let client: LanguageClient | undefined;
  let running: Promise<void> | undefined;
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const start = () =>
    (running ??= (async () => {
      const { LanguageClient, TransportKind } = await import('vscode-languageclient/node');
      const module = context.asAbsolutePath(path.join('dist', 'languageServer.js'));
      const serverOptions: ServerOptions = {
        run: { module, transport: TransportKind.ipc },
        debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
      };
      const clientOptions: LanguageClientOptions = {
        documentSelector: selector,
        outputChannel,
        middleware: {
          handleDiagnostics(uri, diagnostics, next) {
            next(uri, redHatYamlValidates() ? diagnostics.filter((d) => !isYamlSyntaxDiagnostic(d)) : diagnostics);
          },
        },
      };
      client = new LanguageClient('vendetta.config', 'Vendetta Config', serverOptions, clientOptions);
      await client.start();
      markStarted();
    })().catch((err: unknown) => outputChannel.error('Failed to start the config language server', err)));
  const isConfig = (d: vscode.TextDocument) => vscode.languages.match(selector, d) > 0;
  if (vscode.workspace.textDocuments.some(isConfig)) void start();
  else {
    const opened = vscode.workspace.onDidOpenTextDocument((d) => {
      if (!isConfig(d)) return;
      opened.dispose();
      void start();
    });
    context.subscriptions.push(opened);
  }
  return {
    started,
    async stop() {
      await running;
      await client?.stop();
    },
  };
}

export const RED_HAT_YAML = 'redhat.vscode-yaml';

function redHatYamlValidates(): boolean {
  return (
    vscode.extensions.getExtension(RED_HAT_YAML) !== undefined &&
    vscode.workspace.getConfiguration('yaml').get<boolean>('validate', true)
  );
}

function isYamlSyntaxDiagnostic(d: vscode.Diagnostic): boolean {
  const code = typeof d.code === 'object' ? d.code.value : d.code;
  return code === 'yaml-syntax';
}
