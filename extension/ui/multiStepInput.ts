/** Small helpers for the multi-step inputs (Add Node): an input box or a quick pick with "Step n/m". */
import * as vscode from 'vscode';
import { CancelledError } from '../errors';

export interface StepInput {
  title: string;
  step: number;
  totalSteps: number;
  prompt: string;
  placeholder?: string;
  value?: string;
  password?: boolean;
  /** A message when the value is not acceptable, else undefined. */
  validate?: (value: string) => string | undefined;
}

export function askText(opts: StepInput): Promise<string> {
  return new Promise((resolve, reject) => {
    const box = vscode.window.createInputBox();
    box.title = opts.title;
    box.step = opts.step;
    box.totalSteps = opts.totalSteps;
    box.prompt = opts.prompt;
    box.placeholder = opts.placeholder;
    box.value = opts.value ?? '';
    box.ignoreFocusOut = true;
    let done = false;
    const validate = (v: string) => (box.validationMessage = opts.validate?.(v));
    validate(box.value);
    box.onDidChangeValue(validate);
    box.onDidAccept(() => {
      const message = opts.validate?.(box.value);
      if (message) {
        box.validationMessage = message;
        return;
      }
      done = true;
      resolve(box.value);
      box.dispose();
    });
    box.onDidHide(() => {
      if (!done) reject(new CancelledError());
      box.dispose();
    });
    box.show();
  });
}

export interface PickStep<T extends vscode.QuickPickItem> {
  title: string;
  step?: number;
  totalSteps?: number;
  placeholder: string;
  items: T[];
  active?: T;
}

export function askPick<T extends vscode.QuickPickItem>(opts: PickStep<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const pick = vscode.window.createQuickPick<T>();
    pick.title = opts.title;
    pick.step = opts.step;
    pick.totalSteps = opts.totalSteps;
    pick.placeholder = opts.placeholder;
    pick.items = opts.items;
    pick.ignoreFocusOut = true;
    if (opts.active) pick.activeItems = [opts.active];
    let done = false;
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0] ?? pick.activeItems[0];
      if (!chosen) return;
      done = true;
      resolve(chosen);
      pick.dispose();
    });
    pick.onDidHide(() => {
      if (!done) reject(new CancelledError());
      pick.dispose();
    });
    pick.show();
  });
}
