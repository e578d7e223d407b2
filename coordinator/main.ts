/** Entry of dist/vendetta.js: the `vendetta` CLI, and the coordinator daemon it starts. */
import { CommanderError } from 'commander';
import { createProgram } from './cli/program';
import { ExitCode, reportError } from './cli/output';

async function main(argv: string[]): Promise<number> {
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
