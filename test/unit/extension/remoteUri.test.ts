import assert from 'node:assert/strict';
import {
  parseVendettaAuthority,
  pickRemoteSsh,
  remoteFolderUri,
  terminalSshArgs,
  workspaceAlias,
} from '../../../extension/remote/remoteUri';

describe('opening a workspace through Remote-SSH', () => {
  it('builds the vscode-remote URI of the workspace folder', () => {
    assert.equal(
      remoteFolderUri('shop.build-1.vendetta', '/workspaces/shop'),
      'vscode-remote://ssh-remote+shop.build-1.vendetta/workspaces/shop',
    );
    assert.equal(
      remoteFolderUri(workspaceAlias('hello', 'local'), '/workspaces/hello'),
      'vscode-remote://ssh-remote+hello.local.vendetta/workspaces/hello',
    );
  });

  it('keeps a folder with spaces or # as one path', () => {
    assert.equal(
      remoteFolderUri('shop.build-1.vendetta', '/workspaces/my shop#2'),
      'vscode-remote://ssh-remote+shop.build-1.vendetta/workspaces/my%20shop%232',
    );
  });

  it('refuses what is not a workspace host or an absolute folder', () => {
    assert.throws(() => remoteFolderUri('evil.com', '/x'));
    assert.throws(() => remoteFolderUri('a.b.vendetta/../x', '/x'));
    assert.throws(() => remoteFolderUri('shop.build-1.vendetta', 'relative'));
    assert.throws(() => workspaceAlias('Shop', 'build-1'));
  });

  it('recognizes a window inside a workspace from its remote authority', () => {
    assert.deepEqual(parseVendettaAuthority('ssh-remote+shop.build-1.vendetta'), {
      workspace: 'shop',
      node: 'build-1',
      alias: 'shop.build-1.vendetta',
    });
    assert.equal(parseVendettaAuthority('ssh-remote+myserver'), undefined);
    assert.equal(parseVendettaAuthority('wsl+Ubuntu'), undefined);
    assert.equal(parseVendettaAuthority(undefined), undefined);
  });

  it('prefers Remote-SSH, takes the Open Remote - SSH fork, and says when neither is installed', () => {
    assert.equal(
      pickRemoteSsh(['jeanp413.open-remote-ssh', 'ms-vscode-remote.remote-ssh']),
      'ms-vscode-remote.remote-ssh',
    );
    assert.equal(pickRemoteSsh(['Jeanp413.Open-Remote-SSH']), 'jeanp413.open-remote-ssh');
    assert.equal(pickRemoteSsh(['ms-python.python']), undefined);
  });

  it('a workspace terminal runs ssh with the generated config', () => {
    assert.deepEqual(terminalSshArgs('/home/dev/.vendetta/ssh_config', 'shop.build-1.vendetta'), [
      '-F',
      '/home/dev/.vendetta/ssh_config',
      'shop.build-1.vendetta',
    ]);
  });
});
