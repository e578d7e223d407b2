import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkspaceConfig, resolveWorkspaceConfig, validateDevcontainerText } from '../../../coordinator/config';
import { devcontainerId, substituteString } from '../../../coordinator/config/devcontainerVars';

const vars = (env: Record<string, string> = {}) => ({
  localWorkspaceFolder: '/home/me/shop',
  configFile: '/home/me/shop/.devcontainer/devcontainer.json',
  env,
});
const convert = (o: unknown, env: Record<string, string> = {}) =>
  validateDevcontainerText(JSON.stringify(o), '/home/me/shop/.devcontainer/devcontainer.json', 'shop', vars(env));

describe('devcontainer.json ${...} variables, as the reference CLI substitutes them', () => {
  it('gives the id the reference computes: stable per project and config, another for another config', () => {
    // Computed apart (python: sha256 of the sorted id labels as JSON, written in base 32).
    assert.equal(
      devcontainerId('/tmp/dcid/proj', '/tmp/dcid/proj/.devcontainer/devcontainer.json'),
      '0gaqgf5fs1hjbun6pl20qqehnv6q17l0fbs9mm11jnacnona1c94',
    );
    const a = devcontainerId('/p', '/p/.devcontainer/a/devcontainer.json');
    assert.equal(a, devcontainerId('/p', '/p/.devcontainer/a/devcontainer.json'));
    assert.notEqual(a, devcontainerId('/p', '/p/.devcontainer/b/devcontainer.json'));
    assert.match(a, /^[0-9a-v]{52}$/);
  });

  it('reads localEnv with its default, and leaves what it does not know as written', () => {
    const v = vars({ HOME: '/home/me', EMPTY: '' });
    assert.equal(substituteString('${localEnv:HOME}/x ${env:HOME}', v), '/home/me/x /home/me');
    assert.equal(substituteString('[${localEnv:MISSING}]', v), '[]');
    assert.equal(substituteString('${localEnv:MISSING:fallback}', v), 'fallback');
    // Set but empty is a value, not missing (as the reference has it).
    assert.equal(substituteString('[${localEnv:EMPTY:fallback}]', v), '[]');
    assert.equal(
      substituteString('${containerEnv:PATH} ${nope} ${localEnv}', v),
      '${containerEnv:PATH} ${nope} ${localEnv}',
    );
    assert.equal(substituteString('${containerWorkspaceFolder}', v), '${containerWorkspaceFolder}');
  });

  it('substitutes in every string field, the container folder from workspaceFolder or the default', () => {
    const r = convert(
      {
        name: 'shop-${localEnv:TEAM}',
        image: 'reg.example/${localEnv:TEAM}/dev:1',
        workspaceFolder: '/src/${localWorkspaceFolderBasename}',
        containerEnv: {
          WS: '${containerWorkspaceFolder}',
          BASE: '${containerWorkspaceFolderBasename}',
          LOCAL: '${localWorkspaceFolder}',
          ID: '${devcontainerId}',
        },
        remoteEnv: { PATH: '${containerEnv:PATH}:${containerWorkspaceFolder}/bin' },
        mounts: ['type=volume,source=cache-${devcontainerId},target=/cache'],
        postCreateCommand: ['echo', '${containerWorkspaceFolder}'],
        build: undefined,
      },
      { TEAM: 'web' },
    );
    assert.deepEqual(
      r.diagnostics.map((d) => d.message),
      [],
    );
    const c = r.config!;
    const id = devcontainerId('/home/me/shop', '/home/me/shop/.devcontainer/devcontainer.json');
    assert.equal(c.name, 'shop-web');
    assert.equal(c.docker?.image, 'reg.example/web/dev:1');
    assert.equal(c.workspaceFolder, '/src/shop');
    assert.deepEqual(c.env, { WS: '/src/shop', BASE: 'shop', LOCAL: '/home/me/shop', ID: id });
    // containerEnv is the agent's to resolve: it stays for the node, in remoteEnv only.
    assert.deepEqual(c.remoteEnv, { PATH: '${containerEnv:PATH}:/src/shop/bin' });
    assert.equal(c.docker?.run?.mounts?.[0]?.source, `cache-${id}`);
    assert.deepEqual(c.hooks?.postCreate, ['echo', '/src/shop']);
    const defaulted = convert({ image: 'i', containerEnv: { WS: '${containerWorkspaceFolder}' } });
    assert.equal(defaulted.config?.env?.WS, '/workspaces/shop');
  });

  it('names a containerEnv variable outside remoteEnv and an unknown variable in a warning', () => {
    const r = convert({ image: 'i', containerEnv: { A: '${containerEnv:HOME}', B: '${nodeHome}' } });
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.message]),
      [
        ['warning', '`${containerEnv:HOME}` is substituted only in `remoteEnv`; here it stays as written'],
        ['warning', '`${nodeHome}` is not a variable Vendetta knows; it stays as written'],
      ],
    );
  });

  it('keeps containerEnv and remoteEnv apart through to the resolved config', () => {
    const r = convert({ image: 'i', containerEnv: { A: '1' }, remoteEnv: { B: '2' } });
    const resolved = resolveWorkspaceConfig(r.config!);
    assert.deepEqual(resolved.env, { A: '1' });
    assert.deepEqual(resolved.remoteEnv, { B: '2' });
    assert.equal(resolveWorkspaceConfig(convert({ image: 'i' }).config!).remoteEnv, undefined);
  });

  it('honours workspaceMount when it binds the project folder, and names any other', () => {
    const mount = (m: string, extra: object = {}) => convert({ image: 'i', workspaceMount: m, ...extra });
    const same = mount('source=${localWorkspaceFolder},target=/code,type=bind,consistency=cached', {
      containerEnv: { WS: '${containerWorkspaceFolder}' },
    });
    assert.deepEqual(same.diagnostics, []);
    assert.equal(same.config?.workspaceFolder, '/code');
    assert.equal(same.config?.env?.WS, '/code', 'the container folder is where the mount puts the project');
    assert.deepEqual(
      mount('type=bind,source=${localWorkspaceFolder},target=/code', { workspaceFolder: '/code' }).diagnostics,
      [],
    );
    const apart = mount('type=bind,source=${localWorkspaceFolder},target=/src', { workspaceFolder: '/src/app' });
    assert.match(apart.diagnostics[0]!.message, /the project lands at workspaceFolder \/src\/app, not at \/src/);
    const volume = mount('type=volume,source=shop,target=/code');
    assert.match(volume.diagnostics[0]!.message, /only a bind mount of the project folder/);
    assert.equal(volume.config?.workspaceFolder, undefined);
  });

  it('takes overrideCommand true (the SSH server is the main process) and names false', () => {
    assert.deepEqual(convert({ image: 'i', overrideCommand: true }).diagnostics, []);
    const off = convert({ image: 'i', overrideCommand: false });
    assert.match(off.diagnostics[0]!.message, /`overrideCommand: false` is not supported/);
    assert.equal(convert({ image: 'i', overrideCommand: 'no' }).diagnostics[0]?.severity, 'error');
  });

  it('reads localEnv from the environment the loader is given, the project folder from the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-vars-'));
    try {
      const project = join(dir, 'shop');
      mkdirSync(join(project, '.devcontainer', 'py'), { recursive: true });
      const file = join(project, '.devcontainer', 'py', 'devcontainer.json');
      writeFileSync(
        file,
        '{"image":"i","containerEnv":{"T":"${localEnv:TEAM}","P":"${localWorkspaceFolder}","I":"${devcontainerId}"}}',
      );
      const loaded = await loadWorkspaceConfig(file, { env: { TEAM: 'ops' } });
      assert.deepEqual(loaded.config?.env, { T: 'ops', P: project, I: devcontainerId(project, file) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
