/**
 * What a Dev Container Feature adds besides its install: its lifecycle commands (read from
 * devcontainer-feature.json, kept in install order in the image's label, ordered before the
 * project's own) and its `customizations.vscode`.
 */
import assert from 'node:assert/strict';
import { AgentError } from '../../../agent/errors';
import {
  featuresBuildContext,
  parseFeaturesLabel,
  type ReadyFeature,
} from '../../../agent/providers/docker/features/dockerfile';
import { parseFeatureMetadata } from '../../../agent/providers/docker/features/metadata';
import { hookSteps } from '../../../agent/services/hooks';
import { workspaceInfo } from '../../../agent/workspaces/info';
import type { WorkspaceRecord } from '../../../agent/workspaces/state';
import type { WorkspaceSpec } from '../../../agent/protocol';

const parse = (o: object) => parseFeatureMetadata(JSON.stringify({ id: 'f', ...o }), 'r/f:1');

const refusal = (o: object): string => {
  try {
    parse(o);
  } catch (err) {
    assert.ok(err instanceof AgentError, String(err));
    return `${err.code}: ${err.message}`;
  }
  assert.fail('expected FEATURE_INVALID');
};

const ready = (ref: string, o: object): ReadyFeature => ({
  ref,
  meta: parseFeatureMetadata(JSON.stringify(o), ref),
  env: {},
  files: [{ path: 'install.sh', type: 'file', mode: 0o755, data: '#!/bin/sh\n' }],
});

describe("a feature's lifecycle commands and VS Code customizations", () => {
  it('reads every lifecycle command in each form, and nothing of them is named as ignored', () => {
    const m = parse({
      onCreateCommand: 'echo a',
      updateContentCommand: ['echo', 'b'],
      postCreateCommand: { one: 'echo c', two: ['echo', 'd'] },
      postStartCommand: 'echo e',
      postAttachCommand: 'echo f',
    });
    assert.deepEqual(m.hooks, {
      onCreate: 'echo a',
      updateContent: ['echo', 'b'],
      postCreate: { one: 'echo c', two: ['echo', 'd'] },
      postStart: 'echo e',
      postAttach: 'echo f',
    });
    assert.deepEqual(m.ignored, []);
  });

  it('refuses a lifecycle command that is not a command', () => {
    assert.match(refusal({ postCreateCommand: 3 }), /^FEATURE_INVALID: .*`postCreateCommand` is not a command/);
    assert.match(refusal({ onCreateCommand: [] }), /`onCreateCommand` is not a command/);
    assert.match(refusal({ postStartCommand: { a: 1 } }), /`postStartCommand` is not a command/);
  });

  it("takes customizations.vscode's extensions and settings, naming what it does not apply", () => {
    const m = parse({
      customizations: {
        vscode: {
          extensions: ['ms-python.python', 'not an id'],
          settings: { 'python.defaultInterpreterPath': '/usr/bin/python3' },
          devPort: 1,
        },
        codespaces: {},
      },
    });
    assert.deepEqual(m.vscode, {
      extensions: ['ms-python.python'],
      settings: { 'python.defaultInterpreterPath': '/usr/bin/python3' },
    });
    assert.deepEqual(m.ignored, [
      'customizations.codespaces',
      'customizations.vscode.devPort',
      'the extension "not an id" (not a publisher.name id)',
    ]);
    assert.equal(parse({ customizations: { vscode: {} } }).vscode, undefined, 'nothing to add');
    assert.deepEqual(parse({ legacyIds: ['old'] }).ignored, ['legacyIds']);
    assert.match(
      refusal({ customizations: { vscode: { settings: [] } } }),
      /`customizations.vscode.settings` is not an object/,
    );
    assert.match(refusal({ customizations: { vscode: { extensions: 'a.b' } } }), /customizations.vscode.extensions/);
  });

  it("keeps the features' commands and customizations in install order in the image's label", () => {
    const { summary } = featuresBuildContext(
      'base',
      undefined,
      [
        ready('r/a:1', { id: 'a', postCreateCommand: 'echo a' }),
        ready('./none', { id: 'none' }),
        ready('r/b:1', {
          id: 'b',
          postCreateCommand: 'echo b',
          customizations: { vscode: { extensions: ['x.y'] } },
        }),
      ],
      { remoteUser: 'root', containerUser: 'root' },
    );
    assert.deepEqual(summary.hooks, [
      { feature: 'r/a:1', hooks: { postCreate: 'echo a' } },
      { feature: 'r/b:1', hooks: { postCreate: 'echo b' } },
    ]);
    assert.deepEqual(summary.vscode, [{ extensions: ['x.y'], settings: {} }]);
    assert.deepEqual(parseFeaturesLabel(JSON.stringify(summary))?.hooks, summary.hooks);
  });

  it("orders each hook's commands: the features' in install order, then the project's", () => {
    assert.deepEqual(
      hookSteps({ postCreate: 'own', postAttach: ['own', 'attach'] }, [
        { feature: 'a', hooks: { postCreate: 'from-a', postStart: { s: 'from-a' } } },
        { feature: 'b', hooks: { postCreate: ['from', 'b'] } },
      ]),
      {
        postCreate: [{ command: 'from-a', feature: 'a' }, { command: ['from', 'b'], feature: 'b' }, { command: 'own' }],
        postStart: [{ command: { s: 'from-a' }, feature: 'a' }],
        postAttach: [{ command: ['own', 'attach'] }],
      },
    );
    assert.deepEqual(hookSteps(undefined), {});
  });

  it('tells the coordinator which hooks the features add and their customizations', () => {
    const spec = {
      name: 'w',
      provider: 'docker',
      docker: { image: 'i' },
      env: {},
      user: 'root',
      workspaceFolder: '/workspaces/w',
      authorizedKeys: [],
    } as unknown as WorkspaceSpec;
    const rec: WorkspaceRecord = {
      spec,
      provider: 'docker',
      hostKey: { type: 'ssh-ed25519', publicKey: 'k', fingerprint: 'f' },
      hostKeyFile: '/k',
      nodeFolder: '/n',
      createdAt: '2026-12-05T00:00:00.000Z',
      phase: 'ready',
      features: {
        hooks: [
          { feature: 'a', hooks: { postStart: 'x' } },
          { feature: 'b', hooks: { onCreate: 'y' } },
        ],
        vscode: [{ extensions: ['x.y'], settings: { a: 1 } }],
      },
    };
    const info = workspaceInfo(rec, { kind: 'seen', ws: undefined }, false);
    assert.deepEqual(info.features, {
      hooks: ['onCreate', 'postStart'],
      vscode: [{ extensions: ['x.y'], settings: { a: 1 } }],
    });
  });
});
