/**
 * What every tool of `vendetta mcp` declares: its name, a one-line description written for a
 * model, its input schema (zod, turned into JSON Schema by the SDK), and how far it may change
 * things — the server leaves tools out by that kind under `--read-only` (only `read`) and
 * without `--allow-destructive` (no `destructive`).
 */
import type { ZodRawShape } from 'zod';
import { z } from 'zod';
import type { CoordinatorLink } from '../coordinatorLink';
import type { WorkspaceSessions } from '../workspaceSessions';

export type ToolKind = 'read' | 'write' | 'destructive';

export interface ToolContext {
  link: CoordinatorLink;
  sessions: WorkspaceSessions;
  /** Sends an MCP progress notification when the client asked for progress; a no-op otherwise. */
  progress(progress: number, total: number | undefined, message: string): void;
  signal: AbortSignal;
}

export interface ToolOutcome {
  text: string;
  /** Also sent as structuredContent (the same data the text shows, as JSON). */
  structured?: Record<string, unknown>;
  /** For the coordinator's log. */
  workspace?: string;
  node?: string;
  exitCode?: number | null;
}

export interface ToolSpec<S extends ZodRawShape = ZodRawShape> {
  name: string;
  title: string;
  description: string;
  kind: ToolKind;
  input: S;
  run(args: z.infer<z.ZodObject<S>>, ctx: ToolContext): Promise<ToolOutcome>;
}

/** Keeps each spec's argument type tied to its schema inside a list of specs. */
export function tool<S extends ZodRawShape>(spec: ToolSpec<S>): ToolSpec {
  return spec as unknown as ToolSpec;
}

export const workspaceArg = {
  workspace: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
    .describe('Workspace name (see list_workspaces).'),
  node: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
    .optional()
    .describe('The node, only needed when the name exists on several nodes.'),
};

export function refOf(a: { workspace: string; node?: string | undefined }): { name: string; node?: string } {
  return a.node ? { name: a.workspace, node: a.node } : { name: a.workspace };
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
