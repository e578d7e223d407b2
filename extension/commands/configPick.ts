/** The quick-pick items for a folder's several configs: what each is, and its path. Pure. */

export interface ConfigPickItem {
  label: string;
  description: string;
  /** Relative to the project folder, as workspaces/up's `config` takes it. */
  config: string;
}

export function configPickItems(choices: readonly string[]): ConfigPickItem[] {
  return choices.map((config) => {
    const parts = config.split(/[\\/]/);
    const label =
      parts[0] === '.vendetta'
        ? 'Vendetta config'
        : parts.length === 3
          ? `Dev Container: ${parts[1]}`
          : 'Dev Container';
    return { label, description: config, config };
  });
}
