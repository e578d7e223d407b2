/** Entry of dist/vendetta.js: the `vendetta` CLI, and the coordinator daemon it starts. */
import { CommanderError } from 'commander';
import { ExitCode, reportError } from './cli/output';

async function main(argv: string[]): Promise<number> {
  // OpenSSH starts `ssh-proxy` for every connection: load only what it needs (a third of the startup).
  if (argv[2] === 'ssh-proxy') {
    const { sshProxy, sshProxyArgs } = await import('./cli/sshProxy.js');
    const args = sshProxyArgs(argv.slice(3));
    if (args) return sshProxy(args.alias, args);
  }
  const { createProgram } = await import('./cli/program.js');
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    return reportError(err, { verbose: program.opts<{ verbose?: boolean }>().verbose });
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportError(err);
  },
);
