import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../../agent/errors';
import {
  isPublicKeyLine,
  validateCreateParams,
  validateNameParams,
  validateRemoveParams,
} from '../../../agent/handlers/workspaceParams';
import { listWorkspaces } from '../../../agent/handlers/workspaces';
import type { WorkspaceSpec } from '../../../agent/protocol';
import { generateHostKey } from '../../../agent/workspaces/hostKey';
import { authorizedKeysFile, setEnvArgument, sshdConfigText, sshdFiles } from '../../../agent/workspaces/sshd';
import { ensureSshdPrivsepDir } from '../../infra/sys';

const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY me@laptop';
const spec = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'shop',
  provider: 'docker',
  docker: { image: 'vendetta/debian:bookworm' },
  env: {},
  user: 'root',
  workspaceFolder: '/workspaces/shop',
  authorizedKeys: [key],
  ...over,
});

function refused(raw: unknown, pattern: RegExp): void {
  assert.throws(
    () => validateCreateParams(raw),
    (err: unknown) => err instanceof AgentError && err.code === 'INVALID_PARAMS' && pattern.test(err.message),
    `expected INVALID_PARAMS matching ${pattern} for ${JSON.stringify(raw).slice(0, 200)}`,
  );
}

describe('workspace requests are checked at the agent boundary', () => {
  it('accepts Dev Container Features (OCI or ./ project folders) and refuses what could escape or is not a feature list', () => {
    const features = {
      base: 'vendetta/debian:bookworm',
      items: [
        { id: 'ghcr.io/devcontainers/features/node:1', options: { version: '20', lts: true } },
        { id: './.devcontainer/features/x', options: {} },
      ],
      installOrder: ['ghcr.io/devcontainers/features/node'],
    };
    const p = validateCreateParams({ spec: spec({ docker: { image: 'vendetta-ws/shop:abc', features } }) });
    assert.deepEqual(p.spec.provider === 'docker' ? p.spec.docker.features : undefined, features);
    const withFeatures = (f: unknown, image = 'vendetta-ws/shop:abc') => ({
      spec: spec({ docker: { image, features: f } }),
    });
    refused(withFeatures(features, 'vendetta/debian:bookworm'), /must be the built image/);
    refused(withFeatures({ ...features, items: [] }), /items: \[1\.\.64 features\]/);
    refused(withFeatures({ ...features, base: 'bad image!' }), /base must be an image reference/);
    refused(withFeatures({ ...features, items: [{ id: './../../etc', options: {} }] }), /stay inside the project/);
    refused(
      withFeatures({ ...features, items: [{ id: 'bad ref', options: {} }] }),
      /OCI reference or a \.\/ project folder/,
    );
    refused(
      withFeatures({ ...features, items: [{ id: 'r/x:1', options: { a: 1 } }] }),
      /options\.a must be a string or a boolean/,
    );
    refused(withFeatures({ ...features, items: [{ id: 'r/x:1' }] }), /must be \{id, options\}/);
    refused(withFeatures({ ...features, installOrder: 'r/x' }), /installOrder must be a list/);
  });

  it('accepts a qemu spec and refuses what QEMU could not be given', () => {
    const qemu = {
      image: '/var/lib/img/debian.qcow2',
      cpus: 2,
      memoryBytes: 2 ** 30,
      diskBytes: 20 * 2 ** 30,
      accel: 'tcg',
      kernel: '/k',
      initrd: '/i',
      append: 'root=/dev/vda console=ttyS0',
    };
    const p = validateCreateParams({ spec: { ...spec({ provider: 'qemu', docker: undefined }), qemu } });
    assert.deepEqual(p.spec.provider === 'qemu' ? p.spec.qemu : undefined, qemu);
    const q = (over: Record<string, unknown>): unknown => ({
      spec: { ...spec({ provider: 'qemu', docker: undefined }), qemu: { ...qemu, ...over } },
    });
    refused(q({ cpus: 0.5 }), /spec\.qemu\.cpus must be a whole number/);
    refused(q({ image: 'relative.qcow2' }), /spec\.qemu\.image must be an absolute path/);
    refused(q({ accel: 'hvf' }), /spec\.qemu\.accel must be auto, kvm or tcg/);
    refused(q({ append: 'a\nb' }), /spec\.qemu\.append/);
    refused({ spec: { ...spec({ provider: 'qemu', docker: undefined }) } }, /spec\.qemu must be an object/);
    // A URL image comes with its sha256, which must be one.
    const sha = 'ab'.repeat(32);
    const byUrl = validateCreateParams(q({ image: 'https://images.example/d.qcow2', imageSha256: sha }));
    assert.equal(byUrl.spec.provider === 'qemu' ? byUrl.spec.qemu.imageSha256 : undefined, sha);
    refused(q({ image: 'https://images.example/d.qcow2' }), /spec\.qemu\.imageSha256 must be 64 lowercase hex/);
    refused(q({ image: 'https://images.example/d.qcow2', imageSha256: 'AB'.repeat(32) }), /imageSha256/);
    refused(
      q({ image: 'ftp://images.example/d.qcow2', imageSha256: sha }),
      /spec\.qemu\.image must be an absolute path/,
    );
    refused(q({ image: 'https://images.example/a b.qcow2', imageSha256: sha }), /spec\.qemu\.image/);
  });

  it('accepts a full spec and fills in root as the user', () => {
    const p = validateCreateParams({
      spec: {
        ...spec({ user: undefined }),
        docker: {
          image: 'localhost:5000/team/img@sha256:abc',
          cpus: 0.5,
          memoryBytes: 64 * 1024 * 1024,
          pids: 100,
          build: { context: './docker/', dockerfile: 'Dockerfile.dev' },
        },
        env: { NODE_ENV: 'dev', _X1: '' },
      },
      progressToken: 't-1',
    });
    assert.equal(p.spec.user, 'root');
    assert.deepEqual(p.spec.provider === 'docker' ? p.spec.docker.build : undefined, {
      context: 'docker/',
      dockerfile: 'Dockerfile.dev',
    });
    const args = validateCreateParams({
      spec: { ...spec({}), docker: { image: 'x', build: { context: '.', args: { V: 'a b' }, target: 'dev' } } },
    });
    assert.deepEqual(args.spec.provider === 'docker' ? args.spec.docker.build : undefined, {
      context: '.',
      args: { V: 'a b' },
      target: 'dev',
    });
    assert.equal(p.progressToken, 't-1');
    assert.equal(validateCreateParams({ spec: spec({ authorizedKeys: [`  ${key}  `] }) }).spec.authorizedKeys[0], key);
  });

  it('refuses hostile or malformed names everywhere', () => {
    for (const name of [
      '../x',
      'a;b',
      '-oProxyCommand=x',
      '',
      'A',
      'x'.repeat(64),
      'a b',
      'a/b',
      'é',
      null,
      7,
      '.',
      'a\nb',
    ]) {
      refused({ spec: spec({ name }) }, /name must match/);
      assert.throws(() => validateNameParams('workspaces/inspect')({ name }), /name must match/);
      assert.throws(() => validateRemoveParams({ name, force: true }), /name must match/);
    }
    assert.throws(() => validateRemoveParams({ name: 'ok', force: 'yes' }), /force must be true or false/);
    assert.deepEqual(validateRemoveParams({ name: 'ok', force: false }), { name: 'ok' });
    assert.throws(() => validateNameParams('workspaces/stop')(null), /expected an object/);
  });

  it('refuses workspace folders that are relative, unnormalized or hide system folders', () => {
    for (const f of [
      'workspaces/x',
      '/workspaces/../etc',
      '/workspaces/./x',
      '/workspaces//x',
      '/workspaces/x/',
      '/',
      '/etc',
      '/proc/x',
      '/usr/local/x',
      '/w\nx',
      '',
    ]) {
      refused({ spec: spec({ workspaceFolder: f }) }, /workspaceFolder/);
    }
    assert.equal(
      validateCreateParams({ spec: spec({ workspaceFolder: '/home/dev/src' }) }).spec.workspaceFolder,
      '/home/dev/src',
    );
  });

  it('refuses env that is not a map of names to strings', () => {
    refused({ spec: spec({ env: { 'A-B': 'x' } }) }, /not a valid variable name/);
    refused({ spec: spec({ env: { '1A': 'x' } }) }, /not a valid variable name/);
    refused({ spec: spec({ env: { A: 1 } }) }, /must be a string/);
    refused({ spec: spec({ env: { A: 'x\0y' } }) }, /without NUL/);
    refused({ spec: spec({ env: [] }) }, /object of strings/);
  });

  it('accepts only OpenSSH public key lines as authorized keys', () => {
    const fake = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa'), Buffer.alloc(8)]).toString('base64');
    for (const k of [
      '',
      'hello',
      `command="rm -rf /" ${key}`,
      `${key}\nssh-ed25519 AAAA`,
      `ssh-ed25519 ${fake}`,
      'ssh-ed25519 !!!!',
      'ssh-ed25519 AAAA',
    ]) {
      refused({ spec: spec({ authorizedKeys: [k] }) }, /authorizedKeys\[0\] is not an OpenSSH public key/);
    }
    refused({ spec: spec({ authorizedKeys: [] }) }, /1 to 100/);
    assert.ok(isPublicKeyLine(generateHostKey('x').publicKey));
  });

  it('refuses bad images, users, limits, build paths and providers', () => {
    refused({ spec: spec({ docker: { image: 'a b' } }) }, /image reference/);
    refused({ spec: spec({ docker: { image: '-oops' } }) }, /image reference/);
    refused({ spec: spec({ docker: undefined }) }, /spec.docker must be an object/);
    refused({ spec: spec({ docker: { image: 'x', cpus: 0 } }) }, /cpus/);
    refused({ spec: spec({ docker: { image: 'x', memoryBytes: 1024 } }) }, /memoryBytes/);
    refused({ spec: spec({ docker: { image: 'x', pids: 1.5 } }) }, /pids/);
    refused({ spec: spec({ docker: { image: 'x', build: { context: '../outside' } } }) }, /stay inside the project/);
    refused(
      { spec: spec({ docker: { image: 'x', build: { context: '.', args: { 'A-B': '1' } } } }) },
      /"A-B" is not a valid argument name/,
    );
    refused(
      { spec: spec({ docker: { image: 'x', build: { context: '.', args: { A: 1 } } } }) },
      /build.args.A must be a string/,
    );
    refused(
      { spec: spec({ docker: { image: 'x', build: { context: '.', args: [] } } }) },
      /build.args must be an object/,
    );
    refused(
      { spec: spec({ docker: { image: 'x', build: { context: '.', target: '-x' } } }) },
      /target must name a build stage/,
    );
    refused({ spec: spec({ docker: { image: 'x', build: { context: '/abs' } } }) }, /stay inside the project/);
    refused({ spec: spec({ docker: { image: 'x', build: { context: 'a/../../b' } } }) }, /stay inside the project/);
    for (const user of ['Root', 'a b', '-x', '../x', 'x'.repeat(33), 5]) refused({ spec: spec({ user }) }, /spec.user/);
    refused({ spec: spec({ provider: 'podman' }) }, /spec.provider/);
    for (const forwardAgent of ['yes', 1, null])
      refused({ spec: spec({ forwardAgent }) }, /spec.forwardAgent must be true or false/);
    assert.equal(validateCreateParams({ spec: spec({ forwardAgent: true }) }).spec.forwardAgent, true);
    assert.equal('forwardAgent' in validateCreateParams({ spec: spec({ forwardAgent: false }) }).spec, false);
    for (const idleTimeoutMs of [999, 1.5, '60000', -1, 31 * 24 * 3600_000])
      refused({ spec: spec({ idleTimeoutMs }) }, /spec.idleTimeoutMs must be a whole number of milliseconds from 1000/);
    assert.equal(validateCreateParams({ spec: spec({ idleTimeoutMs: 60_000 }) }).spec.idleTimeoutMs, 60_000);
    refused({ spec: 'x' }, /spec must be an object/);
    refused({ spec: spec(), progressToken: '' }, /progressToken/);
    refused([], /expected an object/);
  });

  it('lists with no params, {} or []', () => {
    for (const p of [undefined, null, {}, []]) assert.deepEqual(listWorkspaces.validate(p), {});
    assert.throws(() => listWorkspaces.validate({ x: 1 }), /takes no parameters/);
  });
});

describe('the workspace sshd is configured by files the agent writes', () => {
  const full = validateCreateParams({
    spec: spec({ env: { NODE_ENV: 'development', TRICKY: 'a "b" \\c \'d\' #e', EMPTY: '', MULTI: 'x\ny' } }),
  }).spec;

  it('passes env on with sshd_config quoting, all on one SetEnv line, skipping what sshd cannot carry', () => {
    assert.equal(setEnvArgument('A', 'x "y" \\z'), '"A=x \\"y\\" \\\\z"');
    assert.equal(setEnvArgument('A', 'x\ny'), undefined);
    const { text, skippedEnv } = sshdConfigText(full);
    assert.deepEqual(skippedEnv, ['MULTI']);
    assert.equal(text.split('\n').filter((l) => l.startsWith('SetEnv')).length, 1);
    for (const line of [
      'ListenAddress 0.0.0.0:22',
      'PasswordAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'AuthorizedKeysFile /etc/vendetta/authorized_keys/%u',
      'HostKey /etc/vendetta/ssh_host_ed25519_key',
    ]) {
      assert.ok(text.split('\n').includes(line), line);
    }
    assert.ok(!/SetEnv/.test(sshdConfigText({ ...full, env: {} }).text));
  });

  it('is read by the real sshd exactly as meant (sshd -T)', function () {
    // No OpenSSH server on this machine: off CI skip; under CI (setup installs it) it must run.
    if (!existsSync('/usr/sbin/sshd') && process.env.CI !== 'true') this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-sshd-'));
    try {
      ensureSshdPrivsepDir(); // as root, sshd refuses to start (even -T) without it
      const hostKey = generateHostKey('t');
      writeFileSync(join(dir, 'hk'), hostKey.privateKeyPem, { mode: 0o600 });
      writeFileSync(join(dir, 'cfg'), sshdConfigText(full).text);
      const r = spawnSync('/usr/sbin/sshd', ['-T', '-f', join(dir, 'cfg'), '-h', join(dir, 'hk')], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const setenv = r.stdout.split('\n').filter((l) => l.startsWith('setenv '));
      assert.deepEqual(
        setenv.sort(),
        ['setenv EMPTY=', 'setenv NODE_ENV=development', `setenv TRICKY=a "b" \\c 'd' #e`].sort(),
      );
      assert.match(r.stdout, /^passwordauthentication no$/m);
      assert.match(r.stdout, /^permitrootlogin without-password$/m);
      assert.match(r.stdout, /^authorizedkeysfile \/etc\/vendetta\/authorized_keys\/%u$/m);
      assert.match(r.stdout, /^allowagentforwarding no$/m);
      assert.match(r.stdout, /^x11forwarding no$/m);
      writeFileSync(join(dir, 'cfg'), sshdConfigText({ ...full, forwardAgent: true }).text);
      const optedIn = spawnSync('/usr/sbin/sshd', ['-T', '-f', join(dir, 'cfg'), '-h', join(dir, 'hk')], {
        encoding: 'utf8',
      });
      assert.equal(optedIn.status, 0, optedIn.stderr);
      assert.match(optedIn.stdout, /^allowagentforwarding yes$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('puts the host key, config, privilege-separation folder and root keys in place; other users get theirs later', () => {
    const hk = generateHostKey('x');
    const files = sshdFiles(full, hk);
    const byPath = new Map(files.map((f) => [f.path, f]));
    assert.equal(byPath.get('/etc/vendetta/ssh_host_ed25519_key')?.mode, 0o600);
    assert.equal(byPath.get('/etc/vendetta/ssh_host_ed25519_key')?.content, hk.privateKeyPem);
    assert.equal(byPath.get('/run/sshd')?.type, 'directory');
    assert.equal(byPath.get('/etc/vendetta/authorized_keys/root')?.content, `${key}\n`);
    const dev = sshdFiles({ ...full, user: 'dev' } as WorkspaceSpec, hk);
    assert.ok(!dev.some((f) => f.path.startsWith('/etc/vendetta/authorized_keys/')));
    assert.deepEqual(authorizedKeysFile('dev', [key], 1000, 1001), {
      path: '/etc/vendetta/authorized_keys/dev',
      type: 'file',
      mode: 0o600,
      uid: 1000,
      gid: 1001,
      content: `${key}\n`,
    });
  });
});
