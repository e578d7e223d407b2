/**
 * Issue-19 benchmark: an `exec` tool call of `vendetta mcp` beside `vendetta workspace exec` of
 * the same command, against the same workspace on an SSH node. The MCP server is already
 * connected (to the coordinator and, after its first call, to the workspace's sshd), which is
 * what an agent's session is like; the CLI pays a process, a coordinator connection, a tunnel
 * and an SSH login per command. Target: ≤ 1×.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { WorkspaceUpResult } from '../../coordinator/protocol';
import { createDockerNodes } from '../infra/dockerNode';
import { commandExists } from '../infra/sys';
import { createCliHome, REPO } from '../integration/coordinatorHarness';
import { startMcp } from '../integration/mcpHarness';
import { median, result, timeMs, type Benchmark } from './harness';

const RUNS = 9;
const COMMAND = ['cat', 'README.md'];

export const mcpExec: Benchmark = {
  name: 'mcp-exec',
  requires() {
    if (process.getuid?.() !== 0) return 'needs root (dockerd, network namespaces)';
    const missing = ['dockerd', 'docker', 'ssh', 'ip', 'nsenter'].filter((c) => !commandExists(c));
    return missing.length ? `needs ${missing.join(', ')} (test/infra/setup.sh installs them)` : undefined;
  },
  async run() {
    const net = await createDockerNodes({ count: 1, label: 'bench-mcp' });
    const h = createCliHome();
    try {
      const node = net.nodes[0]!;
      const add = await h.run([
        'node',
        'add',
        node.name,
        '--host',
        node.host,
        '--user',
        node.user,
        '--identity',
        node.identity,
        '--host-key-fingerprint',
        node.hostKeyFingerprint,
      ]);
      if (add.code !== 0) throw new Error(`node add: ${add.stderr}`);
      const dir = join(h.dir, 'hello');
      cpSync(join(REPO, 'examples', 'hello'), dir, { recursive: true });
      // A loaded machine can take minutes over a first up (image, container, services).
      const upRun = await h.run(['workspace', 'up', dir, '--node', node.name, '--json'], { timeoutMs: 600_000 });
      if (upRun.code !== 0)
        throw new Error(`workspace up exited ${upRun.code} after ${upRun.ms} ms: ${upRun.stderr || upRun.stdout}`);
      const up = JSON.parse(upRun.stdout) as WorkspaceUpResult;
      const s = await startMcp(h);
      try {
        const viaMcp = async () => {
          const r = (await s.client.callTool({
            name: 'exec',
            arguments: { workspace: up.name, argv: COMMAND },
          })) as CallToolResult;
          if (r.isError || (r.structuredContent as { exitCode?: number }).exitCode !== 0)
            throw new Error(`exec tool: ${JSON.stringify(r.content)}`);
        };
        const viaCli = async () => {
          const r = await h.run(['workspace', 'exec', up.name, '--', ...COMMAND]);
          if (r.code !== 0) throw new Error(`workspace exec: ${r.stderr}`);
        };
        await viaMcp(); // the server's first call to a workspace logs in to it; an agent pays that once
        await viaCli();
        const ours: number[] = [];
        const raw: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          ours.push(await timeMs(viaMcp));
          raw.push(await timeMs(viaCli));
        }
        process.stderr.write(
          `  mcp-exec medians: exec tool call ${median(ours).toFixed(1)} ms, vendetta workspace exec ${median(raw).toFixed(1)} ms\n`,
        );
        return [result('mcp-exec-tool-call', median(ours), 'ms', 'vendetta-workspace-exec', median(raw), 1)];
      } finally {
        await s.close();
      }
    } finally {
      await h.cleanup();
      await net.destroy();
    }
  },
};
