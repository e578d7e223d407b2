import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GIT_IDENTITY_SCRIPT, gitIdentitySection } from '../../../agent/workspaces/gitIdentity';
import { validateCreateParams } from '../../../agent/handlers/workspaceParams';

describe('your git identity in the workspace', () => {
  let home: string;
  beforeEach(() => (home = mkdtempSync(join(tmpdir(), 'vendetta-gitid-'))));
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  /** The script as the agent runs it (`sh -c SCRIPT sh SECTION`), as the login user with this HOME. */
  const run = (section: string) =>
    execFileSync('sh', ['-c', GIT_IDENTITY_SCRIPT, 'sh', section], { env: { PATH: process.env.PATH, HOME: home } });

  it('is a [user] section, values quoted so quotes, backslashes and shell words stay text', () => {
    assert.equal(gitIdentitySection(undefined), undefined);
    assert.equal(gitIdentitySection({}), undefined);
    assert.equal(
      gitIdentitySection({ name: 'Ada "the" \\Countess', email: 'ada@example.com' }),
      '[user]\n\tname = "Ada \\"the\\" \\\\Countess"\n\temail = "ada@example.com"\n',
    );
    assert.equal(gitIdentitySection({ email: 'a@b' }), '[user]\n\temail = "a@b"\n');
  });

  it('is added to ~/.gitconfig once, and never over a [user] section the workspace has', () => {
    writeFileSync(join(home, '.gitconfig'), '[core]\n\teditor = vi\n');
    const section = gitIdentitySection({ name: '$(touch pwned) `id`; Ada', email: 'ada@example.com' })!;
    run(section);
    run(section);
    assert.equal(readFileSync(join(home, '.gitconfig'), 'utf8'), `[core]\n\teditor = vi\n${section}`);
    assert.throws(() => readFileSync(join(home, 'pwned')), 'nothing of the name ran');
    const own = '[user]\n\tname = Someone Else\n';
    writeFileSync(join(home, '.gitconfig'), own);
    run(section);
    assert.equal(readFileSync(join(home, '.gitconfig'), 'utf8'), own, "the workspace's own identity wins");
  });

  it('the agent takes one line of text per field, and drops an empty identity', () => {
    const spec = {
      name: 'w',
      provider: 'docker',
      env: {},
      user: 'root',
      workspaceFolder: '/workspaces/w',
      authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY me@laptop'],
      docker: { image: 'i' },
    };
    assert.deepEqual(
      validateCreateParams({ spec: { ...spec, gitIdentity: { name: 'Ada', email: 'a@b' } } }).spec.gitIdentity,
      { name: 'Ada', email: 'a@b' },
    );
    assert.equal('gitIdentity' in validateCreateParams({ spec: { ...spec, gitIdentity: {} } }).spec, false);
    for (const bad of [{ name: 'a\nb' }, { email: '' }, { name: 'x'.repeat(257) }, { name: 5 }, 'Ada']) {
      assert.throws(
        () => validateCreateParams({ spec: { ...spec, gitIdentity: bad } }),
        /spec\.gitIdentity/,
        JSON.stringify(bad),
      );
    }
  });
});
