/**
 * devcontainer.json's `customizations.vscode.settings`, written where the VS Code server in the
 * workspace reads machine settings: `~/.vscode-server/data/Machine/settings.json` of the login
 * user, over SFTP as that user (so the file is theirs). The file is merged, never replaced: keys
 * the config does not name, comments and layout stay; the config's keys take its values on each
 * `up`. A file that is not a JSON object is left alone and named.
 */
import { applyEdits, modify, parseTree, type ParseError } from 'jsonc-parser';
import type { Client } from 'ssh2';
import { openSftp } from '../ssh/upload';
import { VendettaError } from '../errors';

/** Relative to the login's home, where SFTP starts. */
export const MACHINE_SETTINGS_DIR = '.vscode-server/data/Machine';
export const MACHINE_SETTINGS = `${MACHINE_SETTINGS_DIR}/settings.json`;

/** The file's text with each setting set; undefined when the text is not a JSON object. */
export function mergeSettingsText(text: string, settings: Record<string, unknown>): string | undefined {
  let out = text.trim() === '' ? '{}' : text;
  const errors: ParseError[] = [];
  const root = parseTree(out, errors, { allowTrailingComma: true });
  if (errors.length || root?.type !== 'object') return undefined;
  for (const [key, value] of Object.entries(settings)) {
    out = applyEdits(
      out,
      modify(out, [key], value, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } }),
    );
  }
  return out.endsWith('\n') ? out : `${out}\n`;
}

const call = <T>(f: (cb: (err: Error | null | undefined, v?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));

/** Writes the settings into the workspace's machine settings; returns the path written. */
export async function writeMachineSettings(
  ssh: Client,
  settings: Record<string, unknown>,
  workspace: string,
): Promise<string> {
  const sftp = await openSftp(ssh);
  try {
    let dir = '';
    for (const part of MACHINE_SETTINGS_DIR.split('/')) {
      dir = dir ? `${dir}/${part}` : part;
      await call<void>((cb) => sftp.mkdir(dir, (e) => cb(e))).catch(() => undefined);
    }
    let text = '';
    try {
      text = String(await call<Buffer>((cb) => sftp.readFile(MACHINE_SETTINGS, cb)));
    } catch (err) {
      // SFTP's "no such file" (code 2) means there is nothing to merge with yet.
      if ((err as { code?: number }).code !== 2) throw err;
    }
    const merged = mergeSettingsText(text, settings);
    if (merged === undefined)
      throw new VendettaError('CONFIG_INVALID', `~/${MACHINE_SETTINGS} in ${workspace} is not a JSON object`, {
        hint: "Fix or remove that file in the workspace; the config's customizations.vscode.settings are merged into it on the next up.",
      });
    if (merged !== text) {
      const tmp = `${MACHINE_SETTINGS}.vendetta-${process.pid}`;
      await call<void>((cb) => sftp.writeFile(tmp, merged, (e) => cb(e)));
      // OpenSSH's rename replaces the old file in one step, so VS Code never reads half a file.
      await call<void>((cb) => sftp.ext_openssh_rename(tmp, MACHINE_SETTINGS, (e) => cb(e)));
    }
    return `~/${MACHINE_SETTINGS}`;
  } finally {
    sftp.end();
  }
}
