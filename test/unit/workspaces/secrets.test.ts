import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VendettaError } from '../../../coordinator/errors';
import { gitTracks, loadLaptopSecrets, parseSecrets } from '../../../coordinator/workspaces/secrets';

const VALUE = 'v4lue-that-must-not-show';

function refusedWith(pattern: RegExp): (err: unknown) => boolean {
  return (err) =>
    err instanceof VendettaError &&
    err.code === 'SECRETS_REFUSED' &&
    pattern.test(err.message) &&
    !err.message.includes(VALUE) &&
    !(err.hint ?? '').includes(VALUE);
}

describe('secrets on the laptop: the secretsFile, read at each up', () => {
  let project: string;
  beforeEach(() => {
    project = mkdtempSync(join(tmpdir(), 'vendetta-secrets-'));
    mkdirSync(join(project, '.vendetta'));
  });
  afterEach(() => rmSync(project, { recursive: true, force: true }));

  it('reads NAME=value lines: export, quotes, comments, blank lines, CRLF', () => {
    const text =
      '\uFEFF# a comment\r\n\nexport A=1\r\nB = "two \\"quoted\\" words"\nC=\'single # not a comment\'\nD=plain # a comment\nE=\nF=a=b\n';
    assert.deepEqual(parseSecrets(text, 's.env'), {
      A: '1',
      B: 'two "quoted" words',
      C: 'single # not a comment',
      D: 'plain',
      E: '',
      F: 'a=b',
    });
  });

  it('refuses a bad line by its number and variable, never showing a value', () => {
    for (const [text, why] of [
      [`A=1\nnot a line ${VALUE}\n`, /^s\.env:2: not a NAME=value line$/],
      [`A="${VALUE}\n`, /^s\.env:1: the value of A opens a quote it does not close$/],
      [`A=${VALUE}\nA=${VALUE}\n`, /^s\.env:2: A is set twice$/],
      [`1A=${VALUE}\n`, /^s\.env:1: "1A" is not an environment variable name/],
      [`VENDETTA_X=${VALUE}\n`, /not an environment variable name/],
    ] as const) {
      assert.throws(() => parseSecrets(text, 's.env'), refusedWith(why), text);
    }
    const many = Array.from({ length: 257 }, (_, i) => `V${i}=x`).join('\n');
    assert.throws(() => parseSecrets(many, 's.env'), refusedWith(/more than 256 variables/));
  });

  it('refuses a file git tracks (naming the git command), and a missing one; reads one git does not track', async () => {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: project, stdio: 'pipe' });
    writeFileSync(join(project, '.vendetta', 'secrets.env'), `TOKEN=${VALUE}\n`);
    assert.equal(await gitTracks(project, '.vendetta/secrets.env'), false, 'not a repository');
    assert.deepEqual((await loadLaptopSecrets(project, './.vendetta/secrets.env')).values, { TOKEN: VALUE });
    assert.equal((await loadLaptopSecrets(project, './.vendetta/secrets.env')).path, '.vendetta/secrets.env');
    git('init', '-q');
    git('add', '.vendetta/secrets.env');
    await assert.rejects(
      loadLaptopSecrets(project, '.vendetta/secrets.env'),
      (err: unknown) =>
        refusedWith(/git tracks it/)(err) &&
        /git rm --cached -- \.vendetta\/secrets\.env/.test((err as VendettaError).hint ?? ''),
    );
    git('rm', '-q', '--cached', '.vendetta/secrets.env');
    assert.equal((await loadLaptopSecrets(project, '.vendetta/secrets.env')).values.TOKEN, VALUE);
    await assert.rejects(
      loadLaptopSecrets(project, '.vendetta/nope.env'),
      refusedWith(/The secrets file \.vendetta\/nope\.env \(secretsFile in the config\) does not exist/),
    );
  });
});
