/**
 * Ports found listening inside a running workspace (a dev server started by hand, not only the
 * config's services): asked for with `ports/detect`, and pushed as `ports/didChange` whenever the
 * set changes while a client is connected.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { AgentErrorData } from './errorData';

export interface DetectedPort {
  port: number;
  /** It listens on 127.0.0.1/::1 only: reachable from inside the workspace, not at its address. */
  loopbackOnly: boolean;
}

export interface WorkspaceDetectedPorts {
  workspace: string;
  /** False: the workspace does not run, so nothing listens (ports is empty). */
  running: boolean;
  ports: DetectedPort[];
}

export const DetectPorts = new RequestType<{ workspace: string }, WorkspaceDetectedPorts, AgentErrorData>(
  'ports/detect',
);
export const PortsDidChange = new NotificationType<WorkspaceDetectedPorts>('ports/didChange');
