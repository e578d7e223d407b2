import assert from 'node:assert/strict';
import { Command } from 'commander';
import type { WorkspaceConfiguration } from 'vscode';
import { addDotfilesOptions, dotfilesParam, type DotfilesOpts } from '../../../coordinator/cli/dotfilesOptions';
import { VendettaError } from '../../../coordinator/errors';
import { parseDotfiles } from '../../../coordinator/workspaces/dotfiles';
import { validateUp } from '../../../coordinator/workspaces/handlers';
import { dotfilesFromSettings } from '../../../extension/util/dotfilesSettings';

/** A `vendetta` configuration as inspect() reports it: user values, and values a repository's settings set. */
function settings(
  user: Record<string, string>,
  repo: Record<string, string> = {},
): Pick<WorkspaceConfiguration, 'inspect'> {
  return {
    inspect: <T>(key: string) =>
      ({
        key: `vendetta.${key}`,
        defaultValue: key === 'dotfiles.targetPath' ? '~/dotfiles' : '',
        ...(key in user ? { globalValue: user[key] } : {}),
        ...(key in repo ? { workspaceValue: repo[key] } : {}),
      }) as { key: string; globalValue?: T },
  };
}

describe('dotfiles settings: VS Code and the CLI send the same, checked before any node is asked', () => {
  it('VS Code sends vendetta.dotfiles.* from the user’s settings, none while the repository is empty', () => {
    assert.equal(dotfilesFromSettings(settings({})), undefined);
    assert.equal(dotfilesFromSettings(settings({ 'dotfiles.repository': '  ' })), undefined);
    assert.deepEqual(
      dotfilesFromSettings(settings({ 'dotfiles.repository': ' me/dots ', 'dotfiles.installCommand': 'setup/go.sh' })),
      { repository: 'me/dots', installCommand: 'setup/go.sh', targetPath: '~/dotfiles' },
    );
    // A repository's .vscode/settings.json cannot make the node clone something and run it.
    const evil = { 'dotfiles.repository': 'file:///home/dev/.ssh', 'dotfiles.installCommand': 'x.sh' };
    assert.equal(dotfilesFromSettings(settings({}, evil)), undefined);
    assert.deepEqual(dotfilesFromSettings(settings({ 'dotfiles.repository': 'me/dots' }, evil)), {
      repository: 'me/dots',
      targetPath: '~/dotfiles',
    });
  });

  it('the CLI spells them --dotfiles, --dotfiles-install-command, --dotfiles-target-path, and the last two need the first', () => {
    const opts = (argv: string[]) =>
      addDotfilesOptions(new Command().exitOverride()).parse(argv, { from: 'user' }).opts<DotfilesOpts>();
    assert.deepEqual(
      dotfilesParam(
        opts([
          '--dotfiles',
          'file:///srv/d.git',
          '--dotfiles-install-command',
          'i.sh',
          '--dotfiles-target-path',
          '/opt/d',
        ]),
      ),
      { repository: 'file:///srv/d.git', installCommand: 'i.sh', targetPath: '/opt/d' },
    );
    assert.equal(dotfilesParam(opts([])), undefined);
    assert.throws(
      () => dotfilesParam(opts(['--dotfiles-target-path', '~/d'])),
      (e: VendettaError) => e.code === 'INVALID_PARAMS' && /--dotfiles-target-path needs --dotfiles/.test(e.message),
    );
  });

  it('the coordinator takes GitHub’s owner/repo as its https URL, a URL or a node path as it is, and refuses the rest with a hint', () => {
    const up = (dotfiles: unknown) => validateUp({ path: '/home/dev/shop', dotfiles }).dotfiles;
    assert.deepEqual(up({ repository: 'octo-cat/dotfiles' }), {
      repository: 'https://github.com/octo-cat/dotfiles.git',
    });
    assert.deepEqual(up({ repository: 'me/dots.git' }), { repository: 'https://github.com/me/dots.git' });
    for (const r of [
      'https://example.com/d.git',
      'git@example.com:me/d.git',
      'file:///srv/git/d.git',
      '/srv/git/d.git',
    ])
      assert.deepEqual(up({ repository: r }), { repository: r });
    assert.deepEqual(up({ repository: 'me/d', installCommand: 'x.sh', targetPath: '~' }), {
      repository: 'https://github.com/me/d.git',
      installCommand: 'x.sh',
      targetPath: '~',
    });
    assert.equal(up({ repository: '' }), undefined, 'an empty setting is none');
    assert.equal(up(undefined), undefined);
    for (const [bad, why] of [
      [{ repository: '--upload-pack=x' }, /is not a repository git can clone/],
      [{ repository: 'relative/path/too/deep' }, /is not a repository git can clone/],
      [{ repository: 'me/d\nx' }, /one line/],
      [{ repository: 'me/d', targetPath: 'dots' }, /neither under ~ nor absolute/],
      [{ repository: 'me/d', extra: 1 }, /unknown field/],
      ['me/d', /expected \{repository/],
    ] as const) {
      assert.throws(
        () => parseDotfiles(bad),
        (e: VendettaError) => e.code === 'INVALID_PARAMS' && why.test(e.message) && !!e.hint,
        JSON.stringify(bad),
      );
    }
  });
});
