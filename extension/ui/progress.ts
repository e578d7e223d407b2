/**
 * Long coordinator requests (node add, workspace up) in a progress notification: each
 * `progress/didReport` for the request's token becomes `[2/5] Syncing code…`; Cancel cancels the
 * request (vscode-jsonrpc sends $/cancelRequest, the coordinator stops the steps).
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { CoordinatorClient } from '../client/coordinatorClient';

export function withCoordinatorProgress<T>(
  client: CoordinatorClient,
  title: string,
  body: (progressToken: string, token: vscode.CancellationToken) => Promise<T>,
  opts: { cancellable?: boolean; log?: vscode.LogOutputChannel } = {},
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: opts.cancellable ?? true },
    async (progress, token) => {
      const progressToken = randomUUID();
      let done = 0;
      const sub = client.onProgress((p) => {
        if (p.token !== progressToken) return;
        const target = p.total > 0 ? Math.min(100, ((p.step - 1) / p.total) * 100) : 0;
        const increment = Math.max(0, target - done);
        done += increment;
        const message = `[${p.step}/${p.total}] ${p.message}`;
        opts.log?.info(`${title}: ${message}`);
        progress.report({ message, increment });
      });
      try {
        return await body(progressToken, token);
      } finally {
        sub.dispose();
      }
    },
  );
}
