import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceConfiguration } from 'vscode';
import { homeFromSettings } from '../../../extension/client/home';
import { MACHINE_SETTINGS, machineSetting } from '../../../extension/util/machineSettings';

type Inspected = {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
};

/** A `vendetta` configuration as VS Code's inspect() reports it, from plain values. */
function config(values: Record<string, Inspected>): Pick<WorkspaceConfiguration, 'inspect'> {
  return {
    inspect: <T>(key: string) =>
      values[key] ? ({ key: `vendetta.${key}`, ...values[key] } as { key: string; globalValue?: T }) : undefined,
  };
}

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { scope?: string }> } };
};

describe("a repository's .vscode/settings.json cannot point Vendetta at another home", () => {
  it('declares vendetta.home, vendetta.sshConfig.manageInclude and vendetta.dotfiles.* with "scope": "machine", and only those', () => {
    const machine = Object.entries(pkg.contributes.configuration.properties)
      .filter(([, p]) => p.scope === 'machine')
      .map(([k]) => k);
    assert.deepEqual(machine.sort(), MACHINE_SETTINGS.map((k) => `vendetta.${k}`).sort());
    assert.deepEqual([...MACHINE_SETTINGS].sort(), [
      'dotfiles.installCommand',
      'dotfiles.repository',
      'dotfiles.targetPath',
      'home',
      'sshConfig.manageInclude',
    ]);
  });

  it("reads them from the user's settings only, ignoring workspace and folder values", () => {
    const c = config({
      home: {
        defaultValue: '',
        globalValue: '/home/dev/vh',
        workspaceValue: '/tmp/evil',
        workspaceFolderValue: '/tmp/evil2',
      },
      'sshConfig.manageInclude': { defaultValue: 'ask', workspaceValue: 'always' },
    });
    assert.equal(machineSetting<string>(c, 'home'), '/home/dev/vh');
    assert.equal(machineSetting<string>(c, 'sshConfig.manageInclude'), 'ask');
    assert.equal(homeFromSettings(c, {}, '/home/dev'), '/home/dev/vh');
    const onlyRepo = config({ home: { defaultValue: '', workspaceValue: '/tmp/evil' } });
    assert.equal(homeFromSettings(onlyRepo, { VENDETTA_HOME: '/env' }, '/home/dev'), '/env');
    assert.equal(homeFromSettings(onlyRepo, {}, '/home/dev'), '/home/dev/.vendetta');
  });
});
