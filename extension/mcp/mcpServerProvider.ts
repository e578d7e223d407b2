/**
 * Offers `vendetta mcp` to VS Code's own MCP support (agent mode), so chat agents can use the
 * workspaces with no configuration. The API (`vscode.lm.registerMcpServerDefinitionProvider`,
 * `McpStdioServerDefinition`) exists from VS Code 1.101; this extension supports 1.100, so both
 * are looked up at run time and an older host simply gets no provider. The shapes are declared
 * here because @types/vscode 1.100 lacks them.
 */
import type * as vscode from 'vscode';
import type { NodeRuntime } from '../client/runtime';

/** The id in package.json's `contributes.mcpServerDefinitionProviders`. */
export const MCP_PROVIDER_ID = 'vendetta.mcpServers';

interface McpServerDefinitionProvider {
  provideMcpServerDefinitions(token: vscode.CancellationToken): Promise<unknown[]>;
}

/** The parts of the `vscode` namespace this needs, all optional on older hosts. */
export interface McpHost {
  lm?: {
    registerMcpServerDefinitionProvider?: (id: string, provider: McpServerDefinitionProvider) => vscode.Disposable;
  };
  McpStdioServerDefinition?: new (
    label: string,
    command: string,
    args?: string[],
    env?: Record<string, string | number | null>,
    version?: string,
  ) => unknown;
}

export interface McpServerOptions {
  cliPath: string;
  home: () => string;
  version: string;
  findRuntime: () => Promise<NodeRuntime>;
}

/** What VS Code starts: the runtime that runs the CLI, `<cli> mcp`, and the Vendetta home. */
export async function mcpServerLaunch(
  o: McpServerOptions,
): Promise<{ label: string; command: string; args: string[]; env: Record<string, string>; version: string }> {
  const runtime = await o.findRuntime();
  return {
    label: 'Vendetta workspaces',
    command: runtime.command,
    args: [o.cliPath, 'mcp'],
    env: { ...runtime.env, VENDETTA_HOME: o.home() },
    version: o.version,
  };
}

/** Registers the provider where the host has the API; undefined (nothing registered) elsewhere. */
export function registerMcpServerProvider(
  host: McpHost,
  o: McpServerOptions,
  log: Pick<vscode.LogOutputChannel, 'info' | 'error'>,
): vscode.Disposable | undefined {
  const register = host.lm?.registerMcpServerDefinitionProvider;
  const Definition = host.McpStdioServerDefinition;
  if (typeof register !== 'function' || typeof Definition !== 'function') {
    log.info(
      'This VS Code has no MCP server API (it needs 1.101 or later); `vendetta mcp` can still be added to an MCP client by hand.',
    );
    return undefined;
  }
  try {
    return register.call(host.lm, MCP_PROVIDER_ID, {
      async provideMcpServerDefinitions() {
        try {
          const l = await mcpServerLaunch(o);
          return [new Definition(l.label, l.command, l.args, l.env, l.version)];
        } catch (err) {
          log.error('Cannot offer the Vendetta MCP server: no JavaScript runtime for it', err);
          return [];
        }
      },
    });
  } catch (err) {
    // VS Code 1.100 has a proposed form of this API that wants another contribution point and
    // throws: the rest of the extension must still activate.
    log.info(
      `This VS Code refused the MCP server provider (${err instanceof Error ? err.message : String(err)}); \`vendetta mcp\` can still be added to an MCP client by hand.`,
    );
    return undefined;
  }
}
