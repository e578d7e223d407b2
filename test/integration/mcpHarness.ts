/**
 * An MCP client from the official SDK talking to the BUILT `vendetta mcp` over stdio (the CLI
 * snapshot of the test's home), with every JSON-RPC message recorded in order, so a test can
 * look at the wire and a session can be saved as a transcript.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { join } from 'node:path';
import type { CliHome } from './coordinatorHarness';

export interface TranscriptLine {
  /** `client` sent it, or `server`. */
  from: 'client' | 'server';
  message: JSONRPCMessage;
}

/** Passes messages through to the stdio transport and writes each one down. */
class RecordingTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  constructor(
    private readonly inner: StdioClientTransport,
    private readonly lines: TranscriptLine[],
  ) {}

  start(): Promise<void> {
    this.inner.onmessage = (m) => {
      this.lines.push({ from: 'server', message: m });
      this.onmessage?.(m);
    };
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (e) => this.onerror?.(e);
    return this.inner.start();
  }

  send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    this.lines.push({ from: 'client', message });
    return this.inner.send(message);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface McpSession {
  client: Client;
  transcript: TranscriptLine[];
  stderr(): string;
  pid(): number | null;
  close(): Promise<void>;
}

/** Spawns `node <home>/bin/vendetta.js mcp ...flags` and connects (initialize + initialized). */
export async function startMcp(
  h: CliHome,
  flags: string[] = [],
  opts: { command?: string[] } = {},
): Promise<McpSession> {
  const argv = [...(opts.command ?? []), process.execPath, join(h.dir, 'bin', 'vendetta.js'), 'mcp', ...flags];
  const inner = new StdioClientTransport({
    command: argv[0]!,
    args: argv.slice(1),
    env: { ...(process.env as Record<string, string>), VENDETTA_HOME: h.home, SSH_AUTH_SOCK: '' },
    cwd: h.dir,
    stderr: 'pipe',
  });
  let stderr = '';
  inner.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const transcript: TranscriptLine[] = [];
  const client = new Client({ name: 'vendetta-test', version: '1.0.0' });
  await client.connect(new RecordingTransport(inner, transcript));
  return {
    client,
    transcript,
    stderr: () => stderr,
    pid: () => inner.pid,
    close: () => client.close(),
  };
}
