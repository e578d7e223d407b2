/** The agent's command line: small enough that plain argv parsing says it best. */

export type AgentCommand = 'attach' | 'daemon' | 'version' | 'help';

export type ParsedArgs = { ok: true; command: AgentCommand } | { ok: false; error: string };

export const USAGE = `Usage: vendetta-agent <command>

The Vendetta node agent. The coordinator runs it over SSH; people rarely need to.

Commands:
  attach     Bridge stdin/stdout to the agent daemon's socket (JSON-RPC), starting the daemon if needed
  daemon     Run the agent daemon in the foreground (attach starts it detached)
  version    Print {version, buildId, protocolVersion} as JSON
  help       Show this help (also --help, -h)

Environment:
  VENDETTA_AGENT_HOME   the agent's home (default ~/.vendetta-agent): socket, lock, logs/, state/
`;

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [first, ...rest] = argv;
  if (first === undefined) return { ok: false, error: 'missing command' };
  const command = aliases.get(first);
  if (!command) return { ok: false, error: `unknown command ${JSON.stringify(first)}` };
  if (rest.length > 0) return { ok: false, error: `${command} takes no arguments, got ${JSON.stringify(rest.join(' '))}` };
  return { ok: true, command };
}

// A Map, not an object literal: `constructor` or `__proto__` must not look like a command.
const aliases = new Map<string, AgentCommand>([
  ['attach', 'attach'],
  ['daemon', 'daemon'],
  ['version', 'version'],
  ['--version', 'version'],
  ['help', 'help'],
  ['--help', 'help'],
  ['-h', 'help'],
]);
