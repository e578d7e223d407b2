/**
 * `vendetta mcp`: a Model Context Protocol server on stdin/stdout (the official SDK), so coding
 * agents drive workspaces through the same coordinator as the CLI and the extension. The tool set
 * follows the safety flags: `--read-only` keeps only tools that change nothing; destructive ones
 * (stop, rm) are there only with `--allow-destructive`. Every call is recorded in the
 * coordinator's log (tool, workspace, duration, exit code). Nothing but MCP goes to stdout.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { causeMessages } from '../../common/errors/causes';
import { toVendettaError } from '../errors';
import { VERSION } from '../version';
import { CoordinatorLink } from './coordinatorLink';
import { execTool } from './tools/execTool';
import { fileTools } from './tools/fileTools';
import type { ToolContext, ToolKind, ToolSpec } from './tools/toolSpec';
import { workspaceTools } from './tools/workspaceTools';
import { WorkspaceSessions } from './workspaceSessions';

export interface McpOptions {
  readOnly?: boolean;
  allowDestructive?: boolean;
}

export const ALL_TOOLS: readonly ToolSpec[] = [...workspaceTools, execTool, ...fileTools];

/** The tools a server with these flags offers. */
export function toolsFor(opts: McpOptions): ToolSpec[] {
  const allowed = (k: ToolKind) =>
    opts.readOnly ? k === 'read' : k !== 'destructive' || opts.allowDestructive === true;
  return ALL_TOOLS.filter((t) => allowed(t.kind));
}

function annotations(t: ToolSpec) {
  return {
    title: t.title,
    readOnlyHint: t.kind === 'read',
    destructiveHint: t.kind === 'destructive',
    openWorldHint: false,
  };
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The error as a tool result the model reads (MCP's isError), the same lines the CLI prints. */
export function errorResult(err: unknown): CallToolResult {
  const e = toVendettaError(err);
  const lines = [`error: ${e.message}`];
  if (e.hint) lines.push(`hint: ${e.hint}`);
  for (const c of causeMessages(e.cause)) lines.push(`cause: ${c}`);
  return { isError: true, content: [{ type: 'text', text: lines.join('\n') }] };
}

export function createMcpServer(opts: McpOptions, link: CoordinatorLink, sessions: WorkspaceSessions): McpServer {
  const server = new McpServer(
    { name: 'vendetta', version: VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        'Vendetta runs devcontainer-style workspaces on remote Linux machines. list_workspaces shows them; exec runs commands in one; read_file / write_file / list_files work inside its project folder.',
    },
  );
  for (const t of toolsFor(opts)) {
    server.registerTool(
      t.name,
      { title: t.title, description: t.description, inputSchema: t.input, annotations: annotations(t) },
      async (args: Record<string, unknown>, extra: Extra) => {
        const t0 = Date.now();
        const token = extra._meta?.progressToken;
        const ctx: ToolContext = {
          link,
          sessions,
          signal: extra.signal,
          progress(progress, total, message) {
            if (token === undefined) return;
            void extra
              .sendNotification({
                method: 'notifications/progress',
                params: { progressToken: token, progress, ...(total !== undefined ? { total } : {}), message },
              })
              .catch(() => undefined);
          },
        };
        const ws =
          typeof args.workspace === 'string' ? args.workspace : typeof args.name === 'string' ? args.name : undefined;
        const node = typeof args.node === 'string' ? args.node : undefined;
        try {
          const out = await t.run(args as never, ctx);
          await link.logCall({
            tool: t.name,
            ...((out.workspace ?? ws) ? { workspace: out.workspace ?? ws } : {}),
            ...((out.node ?? node) ? { node: out.node ?? node } : {}),
            durationMs: Date.now() - t0,
            ok: true,
            ...(out.exitCode !== undefined ? { exitCode: out.exitCode } : {}),
          });
          return {
            content: [{ type: 'text', text: out.text }],
            ...(out.structured ? { structuredContent: out.structured } : {}),
          };
        } catch (err) {
          const e = toVendettaError(err);
          const reason = typeof e.details?.reason === 'string' ? e.details.reason : e.code;
          await link.logCall({
            tool: t.name,
            ...(ws ? { workspace: ws } : {}),
            ...(node ? { node } : {}),
            durationMs: Date.now() - t0,
            ok: false,
            error: reason,
          });
          return errorResult(e);
        }
      },
    );
  }
  return server;
}

/** Serves MCP on stdio until stdin closes (the client went away). */
export async function serveMcp(opts: McpOptions): Promise<void> {
  const link = new CoordinatorLink();
  const sessions = new WorkspaceSessions(link);
  // Connect (and start the coordinator) now, so the first tool call does not pay for it; a
  // failure here is reported by the first call instead.
  link.get().catch(() => undefined);
  const server = createMcpServer(opts, link, sessions);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  sessions.dispose();
  link.dispose();
  await server.close().catch(() => undefined);
}
