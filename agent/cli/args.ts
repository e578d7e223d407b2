/** The agent's command line: small enough that plain argv parsing says it best. */
import { NAME_PATTERN } from '../protocol';

export type AgentCommand = 'attach' | 'daemon' | 'version' | 'help' | 'sync-receive';

export type ParsedArgs =
  | { ok: true; command: Exclude<AgentCommand, 'sync-receive'> }
  | { ok: true; command: 'sync-receive'; workspace: string }
  | { ok: false; error: string };

export const USAGE = `Usage: vendetta-agent <command>

The Vendetta node agent. The coordinator runs it over SSH; people rarely need to.

Commands:
  attach     Bridge stdin/stdout to the agent daemon's socket (JSON-RPC), starting the daemon if needed
  daemon     Run the agent daemon in the foreground (attach starts it detached)
  version    Print {version, buildId, protocolVersion} as JSON
  sync-receive WORKSPACE
             Extract a project tar stream from stdin into the workspace's folder on this node
             (first entry .vendetta-sync.json: {"delete": [paths]}); prints one JSON summary line
  help       Show this help (also --help, -h)

Environment:
  VENDETTA_AGENT_HOME   the agent's home (default ~/.vendetta-agent): socket, lock, logs/, state/
`;

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [first, ...rest] = argv;
  if (first === undefined) return { ok: false, error: 'missing command' };
  const command = aliases.get(first);
  if (!command) return { ok: false, error: `unknown command ${JSON.stringify(first)}` };
  if (command === 'sync-receive') {
    if (rest.length !== 1) return { ok: false, error: 'sync-receive takes one argument, the workspace name' };
    const workspace = rest[0]!;
    if (!NAME_PATTERN.test(workspace))
      return { ok: false, error: `not a workspace name: ${JSON.stringify(workspace.slice(0, 80))}` };
    return { ok: true, command, workspace };
  }
  if (rest.length > 0)
    return { ok: false, error: `${command} takes no arguments, got ${JSON.stringify(rest.join(' '))}` };
  return { ok: true, command };
}

// A Map, not an object literal: `constructor` or `__proto__` must not look like a command.
const aliases = new Map<string, AgentCommand>([
  ['attach', 'attach'],
  ['daemon', 'daemon'],
  ['version', 'version'],
  ['sync-receive', 'sync-receive'],
  ['--version', 'version'],
  ['help', 'help'],
  ['--help', 'help'],
  ['-h', 'help'],
]);
