/**
 * The config language server (its own bundle, started by the extension over IPC): diagnostics for
 * `.vendetta/config.yaml`, `devcontainer.json` and `nodes.yaml` from the same validator as
 * `vendetta config validate`, completion and hover from the schemas' descriptions, and quick
 * fixes for did-you-mean keys.
 *
 * The extension contributes no `yamlValidation` for these files: with Red Hat's YAML extension
 * installed it would validate them against the same schema and every schema error would show
 * twice. Its YAML syntax errors are the only overlap left; the client drops ours then.
 */
import {
  CodeActionKind,
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type CodeAction,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { completions, hover } from './schemaFeatures';
import { DIAGNOSTIC_SOURCE, toLspDiagnostic } from './toLsp';
import { validateDocument } from './validateDocument';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

connection.onInitialize(() => ({
  capabilities: {
    textDocumentSync: TextDocumentSyncKind.Incremental,
    codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    completionProvider: { triggerCharacters: [' ', ':', '-', '['] },
    hoverProvider: true,
  },
}));

documents.onDidChangeContent(({ document }) => {
  const diagnostics = validateDocument(document.uri, document.getText()).map(toLspDiagnostic);
  void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics });
});

documents.onDidClose(({ document }) => {
  void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
});

connection.onCodeAction(({ textDocument, context }) => {
  const actions: CodeAction[] = [];
  for (const d of context.diagnostics) {
    const replacement = (d.data as { replacement?: unknown } | undefined)?.replacement;
    if (d.source !== DIAGNOSTIC_SOURCE || typeof replacement !== 'string') continue;
    actions.push({
      title: `Change to '${replacement}'`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [textDocument.uri]: [{ range: d.range, newText: replacement }] } },
    });
  }
  return actions;
});

connection.onCompletion(({ textDocument, position }) => {
  const doc = documents.get(textDocument.uri);
  return doc ? completions(doc, position) : [];
});

connection.onHover(({ textDocument, position }) => {
  const doc = documents.get(textDocument.uri);
  return doc ? hover(doc, position) : null;
});

documents.listen(connection);
connection.listen();
