import assert from 'node:assert/strict';
import { removeNodeDetail } from '../../../extension/commands/removeNodeText';

describe('the Remove Node modal says what each choice removes', () => {
  const node = { user: 'dev', host: 'box', port: 22 };

  it('lists the workspaces that "Remove and Clean Up" removes, and what of each', () => {
    const text = removeNodeDetail(node, [
      {
        name: 'api',
        provider: 'docker',
        state: 'running',
        container: 'c1',
        folder: '/f',
        sshConfigBlock: true,
        knownHostsLine: true,
      },
      { name: 'old', provider: 'docker', sshConfigBlock: true, knownHostsLine: false },
    ]);
    assert.match(text, /^"Remove" forgets dev@box:22 and its pinned host key; the node is left as it is\./);
    assert.match(
      text,
      /first removes its 2 workspaces — container, folder on the node, ssh_config block and known_hosts line of each:\n {2}• api \(running\)\n {2}• old \(only known here\)\nthen stops the agent/,
    );
  });

  it('says when there is nothing but the agent, and why clean-up is not offered when the node cannot list', () => {
    assert.match(removeNodeDetail(node, []), /the node has no workspaces/);
    assert.match(
      removeNodeDetail(node, new Error('Cannot list the workspaces on box to purge them: Cannot reach')),
      /Cleaning up is not offered: Cannot list the workspaces on box/,
    );
  });
});
