/** Entry of dist/agent.js (`vendetta-agent`): attach | daemon | version | help. */
import { runAttach } from './attach/attach';
import { ownBuildId } from './buildId';
import { parseArgs, USAGE } from './cli/args';
import { runDaemon } from './daemon/server';
import { causeMessages } from '../common/errors/causes';
import { exitWhenFlushed } from '../common/process/exitWhenFlushed';
import { toAgentError } from './errors';
import { agentPaths, ensureAgentHome } from './home';
import { FileLogger } from './log/logger';
import { AGENT_DAEMON_STARTING_ENV, AGENT_PROTOCOL_VERSION, type AgentVersionOutput } from './protocol';
import { runSyncReceive } from './sync/cli';
import { holdForSync } from './sync/hold';
import { AGENT_VERSION } from './version';

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (!args.ok) {
    process.stderr.write(`error: ${args.error}\n\n${USAGE}`);
    return 2;
  }
  switch (args.command) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'version': {
      const out: AgentVersionOutput = {
        version: AGENT_VERSION,
        buildId: ownBuildId(),
        protocolVersion: AGENT_PROTOCOL_VERSION,
      };
      process.stdout.write(JSON.stringify(out) + '\n');
      return 0;
    }
    case 'daemon':
      return runDaemon({ paths: agentPaths() });
    case 'sync-receive': {
      const paths = agentPaths();
      ensureAgentHome(paths);
      const logger = new FileLogger(paths.log, { base: { role: 'sync-receive' } });
      return runSyncReceive({
        workspace: args.workspace,
        hold: () => holdForSync(paths, logger, args.workspace),
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
        logger,
      });
    }
    case 'attach': {
      const paths = agentPaths();
      ensureAgentHome(paths);
      const logger = new FileLogger(paths.log, { base: { role: 'attach' } });
      try {
        const startedElsewhere = process.env[AGENT_DAEMON_STARTING_ENV] === '1';
        delete process.env[AGENT_DAEMON_STARTING_ENV]; // not for a daemon this attach may start
        return await runAttach({
          paths,
          logger,
          stdin: process.stdin,
          stdout: process.stdout,
          ...(startedElsewhere ? { startedElsewhereMs: DAEMON_STARTING_GRACE_MS } : {}),
        });
      } catch (err) {
        logger.error('attach failed', { err });
        throw err;
      }
    }
  }
}

/** How long an attach waits for a daemon the setup script started beside it before starting one. */
const DAEMON_STARTING_GRACE_MS = 5_000;

function reportError(err: unknown): void {
  const e = toAgentError(err);
  process.stderr.write(`error: ${e.message}\n`);
  for (const c of causeMessages(e.cause)) process.stderr.write(`  cause: ${c}\n`);
  if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
}

main(process.argv.slice(2)).then(
  (code) => exitWhenFlushed(code),
  (err: unknown) => {
    reportError(err);
    exitWhenFlushed(1);
  },
);
