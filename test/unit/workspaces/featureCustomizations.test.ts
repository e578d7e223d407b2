/** The VS Code customizations of a workspace with features, and what the agent may say about them. */
import assert from 'node:assert/strict';
import { checkWorkspaceInfo } from '../../../coordinator/workspaces/agentReplies';
import { mergeVscode } from '../../../coordinator/workspaces/featureCustomizations';
import { VendettaError } from '../../../coordinator/errors';
import { validateDevcontainerText } from '../../../coordinator/config/devcontainer';

const info = {
  name: 'w',
  provider: 'docker',
  state: 'running',
  image: 'i',
  user: 'root',
  workspaceFolder: '/workspaces/w',
  nodeFolder: '/n',
  createdAt: '2026-12-05T00:00:00.000Z',
  ssh: null,
};

describe("a workspace's VS Code customizations with its features'", () => {
  it("unions the extensions and lets the project's settings win over the features', a later feature over an earlier", () => {
    assert.deepEqual(
      mergeVscode(
        [
          { extensions: ['ms-python.python', 'a.b'], settings: { tab: 2, shared: 'first', onlyA: true } },
          { extensions: ['A.B', 'c.d'], settings: { shared: 'second' } },
        ],
        { extensions: ['c.d', 'e.f'], settings: { tab: 4 } },
      ),
      {
        extensions: ['ms-python.python', 'a.b', 'c.d', 'e.f'],
        settings: { tab: 4, shared: 'second', onlyA: true },
      },
    );
  });

  it("leaves out an extension the project names with a leading '-', whoever adds it", () => {
    assert.deepEqual(
      mergeVscode([{ extensions: ['noisy.linter', 'good.tool'], settings: {} }], {
        extensions: ['-Noisy.Linter', 'my.own', '-not.added'],
      }),
      { extensions: ['good.tool', 'my.own'] },
    );
    const check = (ids: string[]) =>
      validateDevcontainerText(
        JSON.stringify({ image: 'i', customizations: { vscode: { extensions: ids } } }),
        'devcontainer.json',
        'p',
      ).diagnostics.map((d) => d.severity);
    assert.deepEqual(check(['-noisy.linter', 'a.b']), [], 'devcontainer.json takes the form');
    assert.deepEqual(check(['--noisy.linter']), ['error']);
  });

  it("is the project's alone without features, and nothing when neither has any", () => {
    assert.deepEqual(mergeVscode([], { extensions: ['a.b'] }), { extensions: ['a.b'] });
    assert.deepEqual(mergeVscode([{ extensions: [], settings: { x: 1 } }], undefined), { settings: { x: 1 } });
    assert.equal(mergeVscode([], undefined), undefined);
    assert.equal(mergeVscode([{ extensions: [], settings: {} }], {}), undefined);
  });

  it("takes the features' additions from the agent only in their shape, with extension ids VS Code can install", () => {
    const features = { hooks: ['postCreate'], vscode: [{ extensions: ['a.b'], settings: { x: 1 } }] };
    assert.deepEqual(checkWorkspaceInfo({ ...info, features }, 'n1').features, features);
    for (const bad of [
      { hooks: ['postCreat'], vscode: [] },
      { hooks: [], vscode: [{ extensions: ['--install-extension=x'], settings: {} }] },
      { hooks: [], vscode: [{ extensions: [], settings: [] }] },
      { hooks: 'postCreate', vscode: [] },
    ]) {
      assert.throws(
        () => checkWorkspaceInfo({ ...info, features: bad }, 'n1'),
        (e: unknown) => e instanceof VendettaError && /malformed workspace \(features\)/.test(e.message),
        JSON.stringify(bad),
      );
    }
  });
});
