import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkspaceConfig, validateDevcontainerText, workspaceName } from '../../../coordinator/config';

describe('devcontainer.json fallback', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'vendetta-devcontainer-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('names the workspace after the project folder when devcontainer.json has no name', async () => {
    const project = join(tmp, 'My Shop_2');
    mkdirSync(join(project, '.devcontainer'), { recursive: true });
    writeFileSync(join(project, '.devcontainer/devcontainer.json'), '{ "image": "debian:bookworm" }');
    const r = await loadWorkspaceConfig(project);
    assert.equal(r.source, 'devcontainer');
    assert.equal(r.file, join(project, '.devcontainer/devcontainer.json'));
    assert.equal(r.config?.name, 'my-shop-2');
  });

  it("finds a project's one config under .devcontainer/<name>/, names it after both, and asks which of several", async () => {
    const project = join(tmp, 'multi');
    mkdirSync(join(project, '.devcontainer', 'go'), { recursive: true });
    writeFileSync(join(project, '.devcontainer/go/devcontainer.json'), '{ "image": "golang" }');
    const one = await loadWorkspaceConfig(project);
    assert.equal(one.file, join(project, '.devcontainer/go/devcontainer.json'));
    assert.equal(one.config?.name, 'multi-go');
    mkdirSync(join(project, '.devcontainer', 'py'), { recursive: true });
    writeFileSync(join(project, '.devcontainer/py/devcontainer.json'), '{ "image": "python" }');
    mkdirSync(join(project, '.devcontainer', 'not-a-config'), { recursive: true });
    const two = await loadWorkspaceConfig(project);
    assert.equal(two.config, undefined);
    assert.deepEqual(
      two.diagnostics.map((d) => [d.code, d.message]),
      [
        [
          'several-configs',
          'this project has 2 devcontainer configs: .devcontainer/go/devcontainer.json, .devcontainer/py/devcontainer.json',
        ],
      ],
    );
    assert.equal(
      (await loadWorkspaceConfig(join(project, '.devcontainer/py/devcontainer.json'))).config?.name,
      'multi-py',
    );
  });

  it('makes a valid workspace name out of any text', () => {
    assert.equal(workspaceName('My Project!'), 'my-project');
    assert.equal(workspaceName('---'), 'workspace');
    assert.equal(workspaceName(undefined, '../../etc'), 'etc');
    assert.equal(workspaceName('x'.repeat(100)), 'x'.repeat(63));
    assert.equal(workspaceName(42, 'Ünïcode'), 'n-code');
  });

  it('maps the fields Vendetta understands', () => {
    const r = validateDevcontainerText(
      '{"image":"i","forwardPorts":[1,2],"containerEnv":{"A":"1"},"remoteEnv":{"A":"2","B":"3"},"containerUser":"app","postCreateCommand":"make","workspaceFolder":"/w"}',
      'devcontainer.json',
      'proj',
    );
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.config, {
      name: 'proj',
      provider: 'docker',
      docker: { image: 'i' },
      forwardPorts: [1, 2],
      env: { A: '1' },
      remoteEnv: { A: '2', B: '3' },
      user: 'app',
      hooks: { postCreate: 'make' },
      workspaceFolder: '/w',
    });
  });

  it('warns about what it ignores and locates it', () => {
    const r = validateDevcontainerText(
      '{\n  "image": "i",\n  "appPort": [3000, 300],\n  "forwardPorts": ["db:5432"]\n}',
      'devcontainer.json',
      'p',
    );
    assert.ok(r.config);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.line, d.col]),
      [
        ['warning', 'unsupported', 3, 3],
        ['warning', 'unsupported', 4, 20],
      ],
    );
  });

  it('refuses a file that is not a JSON object', () => {
    for (const text of ['[]', '"image"', '42', '', '   ']) {
      const r = validateDevcontainerText(text, 'devcontainer.json', 'p');
      assert.equal(r.config, undefined, text);
      assert.ok(
        r.diagnostics.some((d) => d.severity === 'error'),
        text,
      );
    }
  });

  it('reports one syntax error per spot', () => {
    const r = validateDevcontainerText('{ "image": "x", ', 'devcontainer.json', 'p');
    assert.deepEqual(
      r.diagnostics.map((d) => d.code),
      ['json-syntax'],
    );
  });
});
