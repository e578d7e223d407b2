/**
 * How a failed action reaches the user: one line `Failed to <verb> <target>: <reason>` with
 * "Show Log" (and "Retry" when given); the whole chain goes to the log; cancellation is silent.
 */
import * as vscode from 'vscode';
import { errorInfo, failureDetail, failureLine } from '../errors';

export async function reportFailure(
  log: vscode.LogOutputChannel,
  action: string,
  err: unknown,
  retry?: () => Thenable<unknown> | Promise<unknown>,
): Promise<void> {
  if (errorInfo(err).cancelled) {
    log.info(`${action}: cancelled`);
    return;
  }
  log.error(failureDetail(action, err));
  const actions = retry ? ['Show Log', 'Retry'] : ['Show Log'];
  const choice = await vscode.window.showErrorMessage(failureLine(action, err), ...actions);
  if (choice === 'Show Log') log.show(true);
  else if (choice === 'Retry' && retry) await retry();
}
