/** Turns the pure ItemSpecs of nodeTreeModel.ts into VS Code TreeItems. */
import * as vscode from 'vscode';
import type { ItemSpec } from './nodeTreeModel';

const COLLAPSIBLE: Record<ItemSpec['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export function markdownTooltip(text: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(text, true);
  md.isTrusted = false;
  return md;
}

export function toTreeItem(spec: ItemSpec): vscode.TreeItem {
  const item = new vscode.TreeItem(spec.label, COLLAPSIBLE[spec.collapsible]);
  item.id = spec.id;
  if (spec.description !== undefined) item.description = spec.description;
  item.tooltip = markdownTooltip(spec.tooltip);
  item.iconPath = new vscode.ThemeIcon(
    spec.icon.id,
    spec.icon.color ? new vscode.ThemeColor(spec.icon.color) : undefined,
  );
  item.contextValue = spec.contextValue;
  if (spec.command) item.command = spec.command;
  return item;
}
