/**
 * `vendetta config validate [PATH...]`: checks workspace configs (a file, or a project folder
 * holding .vendetta/config.yaml or .devcontainer/devcontainer.json) and nodes.yaml files.
 * Prints one `PATH:LINE:COL: severity: message` line per problem, like a compiler.
 */
import type { Command } from 'commander';
import { basename } from 'node:path';
import { hasErrors, type Diagnostic } from '../config/diagnostics';
import { VendettaError } from '../errors';
import { ExitCode, printJson } from './output';

interface ValidateOptions {
  json?: boolean;
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('work with workspace configs (.vendetta/config.yaml)');
  config
    .command('validate')
    .description('check a workspace config (a file or a project folder; default: the current folder) or a nodes.yaml')
    .argument('[paths...]', 'config files or project folders (default: the current folder)')
    .option('--json', 'print the problems as a JSON array')
    .action(async (paths: string[], opts: ValidateOptions) => {
      process.exitCode = await validateCommand(paths.length ? paths : ['.'], opts);
    });
}

interface Checked {
  file: string;
  diagnostics: Diagnostic[];
}

async function check(path: string): Promise<Checked> {
  // Loaded here, not at startup: the schema validators are most of what the CLI would load.
  const { loadWorkspaceConfig, readConfigFile, validateNodesText } = await import('../config/index.js');
  if (basename(path) === 'nodes.yaml') {
    // Not loadNodesFile: to the coordinator a missing nodes.yaml is an empty registry, but a
    // path given to validate that does not exist is a mistake worth saying.
    const read = await readConfigFile(path);
    return {
      file: path,
      diagnostics: read.text === undefined ? read.diagnostics : validateNodesText(read.text, path).diagnostics,
    };
  }
  const loaded = await loadWorkspaceConfig(path);
  return { file: loaded.file, diagnostics: loaded.diagnostics };
}

/**
 * `up`'s own look at the project's config before anything starts: every warning printed (a
 * misspelt key is ignored, and the user should know), and every error listed rather than the
 * first. A folder that is no project is left to the coordinator, which says so.
 */
export async function checkConfigBeforeUp(projectDir: string): Promise<void> {
  const { loadWorkspaceConfig } = await import('../config/index.js');
  const loaded = await loadWorkspaceConfig(projectDir);
  if (loaded.diagnostics.some((d) => d.code === 'no-config' || d.code === 'not-found')) return;
  if (loaded.diagnostics.length) process.stderr.write(loaded.diagnostics.map(formatDiagnostic).join('\n') + '\n');
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors) {
    throw new VendettaError(
      'CONFIG_INVALID',
      `${loaded.file} has ${errors} error${errors > 1 ? 's' : ''} (listed above); nothing was started`,
      {
        hint: `Fix ${errors > 1 ? 'them' : 'it'} and run up again; \`vendetta config validate ${projectDir}\` checks the config without starting anything.`,
      },
    );
  }
}

export async function validateCommand(paths: string[], opts: ValidateOptions): Promise<number> {
  const results: Checked[] = [];
  for (const p of paths) results.push(await check(p));
  const all = results.flatMap((r) => r.diagnostics);
  if (opts.json) {
    printJson(all.map(toJson));
  } else {
    for (const r of results) {
      const lines = r.diagnostics.map(formatDiagnostic);
      if (!hasErrors(r.diagnostics)) lines.push(`${r.file}: ok`);
      process.stdout.write(lines.join('\n') + '\n');
    }
  }
  return hasErrors(all) ? ExitCode.Error : ExitCode.Ok;
}

/** The `--json` shape: the located problem without internal fields. */
function toJson(d: Diagnostic): Record<string, unknown> {
  const out: Record<string, unknown> = {
    file: d.file,
    line: d.line,
    col: d.col,
    endLine: d.endLine,
    endCol: d.endCol,
    severity: d.severity,
    message: d.message,
  };
  if (d.hint !== undefined) out.hint = d.hint;
  return out;
}

export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
  return d.hint ? `${head}\n  hint: ${d.hint}` : head;
}
