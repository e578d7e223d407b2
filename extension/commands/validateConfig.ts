/**
 * Validate Config: the same validator as `vendetta config validate`, on the active config
 * editor (its unsaved text too) or the project's config; the findings go to the log.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Diagnostic } from '../../coordinator/config';
import type { CommandContext } from './context';
import { resolveProjectFolder } from './pickers';

function isConfigDocument(doc: vscode.TextDocument): boolean {
  const p = doc.uri.fsPath;
  return (
    doc.uri.scheme === 'file' &&
    (/[/\\]\.vendetta[/\\]config\.ya?ml$/.test(p) || /(^|[/\\])\.?devcontainer\.json$/.test(p))
  );
}

export async function validateConfig(ctx: CommandContext, arg?: unknown): Promise<Diagnostic[]> {
  const cfg = await import('../../coordinator/config/index.js');
  let file: string;
  let diagnostics: Diagnostic[];
  const doc = arg instanceof vscode.Uri ? undefined : vscode.window.activeTextEditor?.document;
  if (doc && isConfigDocument(doc)) {
    file = doc.uri.fsPath;
    const text = doc.getText();
    diagnostics = cfg.isDevcontainerFile(file)
      ? cfg.validateDevcontainerText(text, file, path.basename(path.dirname(path.dirname(file)))).diagnostics
      : cfg.validateWorkspaceConfigText(text, file).diagnostics;
  } else if (arg instanceof vscode.Uri && /\.(ya?ml|json)$/.test(arg.fsPath)) {
    const loaded = await cfg.loadWorkspaceConfig(arg.fsPath);
    file = loaded.file;
    diagnostics = loaded.diagnostics;
  } else {
    const folder = await resolveProjectFolder(arg, 'Validate Config');
    const loaded = await cfg.loadWorkspaceConfig(folder.fsPath);
    file = loaded.file;
    diagnostics = loaded.diagnostics;
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  for (const d of diagnostics) {
    const line = `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}${d.hint ? ` (hint: ${d.hint})` : ''}`;
    if (d.severity === 'error') ctx.log.error(line);
    else ctx.log.warn(line);
  }
  const summary =
    errors || warnings
      ? `${path.basename(file)}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`
      : `${path.basename(file)} is valid`;
  ctx.log.info(`Validate Config: ${summary}`);
  if (errors || warnings) {
    const show = 'Show Problems';
    const log = 'Show Log';
    void vscode.window.showWarningMessage(summary, show, log).then((c) => {
      if (c === show) void vscode.commands.executeCommand('workbench.actions.view.problems');
      if (c === log) ctx.log.show(true);
    });
  } else {
    void vscode.window.showInformationMessage(summary);
  }
  return diagnostics;
}
