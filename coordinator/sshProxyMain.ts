/**
 * Entry of dist/ssh-proxy.js: the ProxyCommand of every generated Host block. OpenSSH starts it
 * for every connection (each Remote-SSH reconnect, terminal, scp), so it is its own small bundle:
 * without the CLI's parser, config schemas and SSH client, Node.js starts it ~30 ms sooner.
 * `vendetta ssh-proxy ALIAS` does the same from the full CLI.
 */
import { ExitCode } from './cli/output';
import { sshProxy, sshProxyArgs } from './cli/sshProxy';

async function main(args: readonly string[]): Promise<number> {
  const parsed = sshProxyArgs(args);
  if (!parsed) {
    process.stderr.write(
      'usage: ssh-proxy [--home DIR] [--verbose] ALIAS  (the ProxyCommand of a Host block vendetta wrote)\n',
    );
    return ExitCode.Usage;
  }
  return sshProxy(parsed.alias, parsed);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = ExitCode.Error;
  },
);
