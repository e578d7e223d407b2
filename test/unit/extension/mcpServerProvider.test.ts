import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CancellationToken } from 'vscode';
import { MCP_PROVIDER_ID, registerMcpServerProvider, type McpHost } from '../../../extension/mcp/mcpServerProvider';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { mcpServerDefinitionProviders?: Array<{ id: string; label: string }> };
  activationEvents: string[];
};

function logger() {
  const lines: string[] = [];
  return {
    lines,
    log: { info: (m: string) => lines.push(`info ${m}`), error: (m: string) => lines.push(`error ${m}`) },
  };
}

const options = (
  findRuntime = async () => ({ command: '/usr/bin/code', env: { ELECTRON_RUN_AS_NODE: '1' }, description: 'VS Code' }),
) => ({
  cliPath: '/ext/dist/vendetta.js',
  home: () => '/home/dev/.vendetta',
  version: '0.1.0',
  findRuntime,
});

describe("the extension offers vendetta mcp to VS Code's MCP support where it exists", () => {
  it('declares the provider id it registers, and activates for it', () => {
    assert.deepEqual(
      pkg.contributes.mcpServerDefinitionProviders?.map((p) => p.id),
      [MCP_PROVIDER_ID],
    );
    assert.ok(pkg.activationEvents.includes(`onMcpServerDefinitionProvider:${MCP_PROVIDER_ID}`));
  });

  it('registers nothing on a host without the API (VS Code 1.100), and says so in the log', () => {
    for (const host of [
      {},
      { lm: {} },
      { lm: { registerMcpServerDefinitionProvider: () => ({ dispose() {} }) } },
    ] as McpHost[]) {
      const { lines, log } = logger();
      assert.equal(registerMcpServerProvider(host, options(), log), undefined);
      assert.match(lines[0]!, /needs 1\.101/);
    }
  });

  it("a host whose API refuses the registration (VS Code 1.100's proposed form) still activates: nothing registered, the reason logged", () => {
    const host: McpHost = {
      lm: {
        registerMcpServerDefinitionProvider: () => {
          throw new Error(
            'MCP configuration providers must be registered in the contributes.modelContextServerCollections array',
          );
        },
      },
      McpStdioServerDefinition: class {},
    };
    const { lines, log } = logger();
    assert.equal(registerMcpServerProvider(host, options(), log), undefined);
    assert.match(lines[0]!, /refused the MCP server provider \(MCP configuration providers must be registered/);
  });

  it('on a newer host, provides a stdio server: the runtime runs `<cli> mcp` with the Vendetta home', async () => {
    const registered: Array<{
      id: string;
      provider: { provideMcpServerDefinitions(t: CancellationToken): Promise<unknown[]> };
    }> = [];
    class Definition {
      constructor(
        readonly label: string,
        readonly command: string,
        readonly args?: string[],
        readonly env?: Record<string, string | number | null>,
        readonly version?: string,
      ) {}
    }
    const host: McpHost = {
      lm: {
        registerMcpServerDefinitionProvider: (id, provider) => (registered.push({ id, provider }), { dispose() {} }),
      },
      McpStdioServerDefinition: Definition,
    };
    const { log } = logger();
    assert.ok(registerMcpServerProvider(host, options(), log));
    assert.equal(registered[0]?.id, MCP_PROVIDER_ID);
    const defs = await registered[0]!.provider.provideMcpServerDefinitions({} as CancellationToken);
    assert.deepEqual(defs, [
      new Definition(
        'Vendetta workspaces',
        '/usr/bin/code',
        ['/ext/dist/vendetta.js', 'mcp'],
        { ELECTRON_RUN_AS_NODE: '1', VENDETTA_HOME: '/home/dev/.vendetta' },
        '0.1.0',
      ),
    ]);
  });

  it('offers no server, and logs why, when no runtime can run it', async () => {
    let provider: { provideMcpServerDefinitions(t: CancellationToken): Promise<unknown[]> } | undefined;
    const host: McpHost = {
      lm: { registerMcpServerDefinitionProvider: (_id, p) => ((provider = p), { dispose() {} }) },
      McpStdioServerDefinition: class {},
    };
    const { lines, log } = logger();
    registerMcpServerProvider(
      host,
      options(async () => {
        throw new Error('no node');
      }),
      log,
    );
    assert.deepEqual(await provider!.provideMcpServerDefinitions({} as CancellationToken), []);
    assert.match(lines.join('\n'), /error Cannot offer the Vendetta MCP server/);
  });
});
