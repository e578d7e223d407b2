import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateCreateParams } from '../../../agent/handlers/workspaceParams';
import { nullLogger } from '../../../agent/log/logger';
import type { ExecOptions, WorkspaceProvider } from '../../../agent/providers/contract';
import type { WorkspaceSpec } from '../../../agent/protocol';
import { recordForCreate } from '../../../agent/workspaces/recordForCreate';
import {
  applyLoginSecrets,
  LOGIN_ENV_SCRIPT,
  loadSecrets,
  secretsFile,
  secretsText,
  storeSecrets,
} from '../../../agent/workspaces/secrets';
import { sshdConfigText } from '../../../agent/workspaces/sshd';
import type { WorkspaceRecord } from '../../../agent/workspaces/state';

const VALUE = 'v4lue-that-must-not-show';
const spec = {
  name: 'w',
  provider: 'docker',
  env: {},
  user: 'root',
  workspaceFolder: '/workspaces/w',
  authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY me@laptop'],
  docker: { image: 'i' },
};

/** A provider that runs the login-environment script here, with stdin, as the login user with this HOME. */
function hostProvider(home: string, calls: Array<{ argv: string[]; opts?: ExecOptions }>): WorkspaceProvider {
  return {
    name: 'docker',
    exec: async (_id: string, argv: string[], opts?: ExecOptions) => {
      calls.push({ argv, ...(opts ? { opts } : {}) });
      try {
        execFileSync(argv[0]!, argv.slice(1), {
          input: opts?.stdin as Buffer,
          env: { PATH: process.env.PATH, HOME: home },
          stdio: 'pipe',
        });
        return { exitCode: 0, stdout: '', stderr: '' };
      } catch (err) {
        const e = err as { status: number; stderr: Buffer };
        return { exitCode: e.status, stdout: '', stderr: e.stderr.toString() };
      }
    },
  } as unknown as WorkspaceProvider;
}

describe('secrets on the node: a 0600 file, the login environment, the services', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-secrets-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the agent takes names and one-line values, and its refusals name the variable, never the value', () => {
    const p = validateCreateParams({ spec: { ...spec, secretNames: ['FORGED'] }, secrets: { API_TOKEN: VALUE } });
    assert.deepEqual(p.secrets, { API_TOKEN: VALUE });
    assert.equal(p.spec.secretNames, undefined, 'only the agent names secrets in a spec');
    for (const [secrets, why] of [
      [{ 'BAD NAME': VALUE }, /"BAD NAME" is not an environment variable name/],
      [{ VENDETTA_X: VALUE }, /VENDETTA_X/],
      [{ API_TOKEN: `${VALUE}\nmore` }, /the value of API_TOKEN holds a line break/],
      [{ API_TOKEN: 5 }, /the value of API_TOKEN is not text/],
      [{ API_TOKEN: 'x'.repeat(33 * 1024) }, /longer than 32 KiB/],
      [[VALUE], /secrets must be an object/],
    ] as const) {
      assert.throws(
        () => validateCreateParams({ spec, secrets }),
        (err: Error) => why.test(err.message) && !err.message.includes(VALUE) && !err.message.includes('xxxx'),
      );
    }
  });

  it('keeps them in one 0600 file beside the project folder, and removes it when there are none', () => {
    storeSecrets(dir, { B: 'two words', A: `a=b ${VALUE}` });
    assert.equal(statSync(secretsFile(dir)).mode & 0o777, 0o600);
    assert.equal(readFileSync(secretsFile(dir), 'utf8'), `A=a=b ${VALUE}\nB=two words\n`);
    assert.deepEqual(loadSecrets(dir), { A: `a=b ${VALUE}`, B: 'two words' });
    storeSecrets(dir, {});
    assert.deepEqual(loadSecrets(dir), {});
    storeSecrets(dir, undefined);
    assert.deepEqual(loadSecrets(dir), {});
  });

  it('writes ~/.ssh/environment as the login user from stdin (0600), never in an argv; says so when it cannot', async () => {
    const calls: Array<{ argv: string[]; opts?: ExecOptions }> = [];
    const values = { API_TOKEN: VALUE };
    await applyLoginSecrets(hostProvider(dir, calls), 'id', 'dev', values, nullLogger, 'w');
    const env = join(dir, '.ssh', 'environment');
    assert.equal(readFileSync(env, 'utf8'), secretsText(values));
    assert.equal(statSync(env).mode & 0o777, 0o600);
    assert.deepEqual(calls[0]!.argv, ['sh', '-c', LOGIN_ENV_SCRIPT]);
    assert.equal(calls[0]!.opts?.user, 'dev');
    assert.ok(!JSON.stringify(calls[0]!.argv).includes(VALUE));
    await applyLoginSecrets(hostProvider(dir, calls), 'id', 'dev', {}, nullLogger, 'w');
    assert.equal(readFileSync(env, 'utf8'), '', 'no old value stays behind');

    const homeless = hostProvider(join(dir, 'missing', 'file-not-dir'), []);
    rmSync(join(dir, 'missing'), { force: true });
    execFileSync('sh', ['-c', `touch ${join(dir, 'missing')}`]);
    await assert.rejects(
      applyLoginSecrets(homeless, 'id', 'dev', values, nullLogger, 'w'),
      (err: Error) =>
        /Could not give the SSH logins of workspace w its secrets/.test(err.message) && !err.message.includes(VALUE),
    );
  });

  it('sshd honours ~/.ssh/environment only for a workspace with secrets, and a made workspace takes new names', () => {
    const s = spec as unknown as WorkspaceSpec;
    assert.doesNotMatch(sshdConfigText(s).text, /PermitUserEnvironment/);
    assert.match(sshdConfigText({ ...s, secretNames: ['API_TOKEN'] }).text, /^PermitUserEnvironment yes$/m);
    const made = { spec: { ...s, secretNames: ['OLD'] }, phase: 'ready' } as unknown as WorkspaceRecord;
    assert.deepEqual(recordForCreate(dir, made, { ...s, secretNames: ['NEW'] }).spec.secretNames, ['NEW']);
    assert.equal(recordForCreate(dir, made, s).spec.secretNames, undefined, 'secrets taken out of the config');
  });
});
