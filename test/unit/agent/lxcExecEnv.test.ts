import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envFilePath, splitEnv, withEnvFile } from '../../../agent/providers/lxc/execEnv';

describe('LXD exec env: values go through a sourced file, never on a command line', () => {
  it('keeps HOME and names a shell cannot export in LXD’s environment; the rest goes into the file', () => {
    const s = splitEnv({ HOME: '/root', TOKEN: 's3cret', 'odd-name': 'x' });
    assert.deepEqual(s.plain, { HOME: '/root', 'odd-name': 'x' });
    assert.equal(s.file, "export TOKEN='s3cret'\n");
    assert.deepEqual(splitEnv({ HOME: '/root' }), { plain: { HOME: '/root' } });
  });

  it('a real sh gets every value back byte for byte, removes the file, and execs the command with its argv', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-envfile-'));
    try {
      const values = { A: 'it\'s "quoted" $HOME `x` \\ end', B: 'two\nlines', C: '' };
      const path = join(dir, envFilePath().slice('/tmp/'.length));
      writeFileSync(path, splitEnv(values).file!, { mode: 0o600 });
      const argv = withEnvFile(path, ['sh', '-c', 'printf "%s|%s|%s|%s" "$A" "$B" "$C" "$1"', 'sh', 'a b']);
      const out = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH } });
      assert.equal(out, `${values.A}|${values.B}||a b`);
      assert.equal(existsSync(path), false, 'the file is gone once sourced');
      assert.match(envFilePath(), /^\/tmp\/\.vendetta-env-[0-9a-f]{24}$/);
      assert.notEqual(envFilePath(), envFilePath());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
