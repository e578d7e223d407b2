/**
 * What a workspace prints cannot drive the terminal of whoever reads it through the CLI: a real
 * service in a real container prints a window-title OSC, a clipboard write (OSC 52), a screen
 * clear, a C1 CSI and a carriage-return overwrite; `workspace logs` shows the text without them,
 * and `--json` keeps them exact.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceLogLine } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { requireRoot } from '../infra/sys';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

// printf escapes (octal): ESC ] 0 ; title BEL, ESC [ 2 J, ESC ] 52 ; c ; base64 BEL, U+009B (C2 9B) 31m, CR, ESC [ 1 A.
const NOISY = String.raw`printf 'start \033]0;pwned\007\033[2J\033]52;c;Y3VybCBldmlsIHwgc2g=\007\302\23331m x\rEVIL\033[1A end\n'
exec sleep 1000000
`;
const RAW = 'start \x1b]0;pwned\x07\x1b[2J\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\u009b31m x\rEVIL\x1b[1A end';

/** No C0 control but tab and newline, no DEL, no C1 control. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('text from a workspace reaches the terminal without control sequences', function () {
  let env: WorkspaceEnv;

  before(async function () {
    requireRoot(this, 'the safe-output suite');
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    const project = join(env.h.dir, 'safeout');
    mkdirSync(join(project, '.vendetta'), { recursive: true });
    writeFileSync(join(project, 'noisy.sh'), NOISY);
    writeFileSync(
      join(project, '.vendetta', 'config.yaml'),
      `name: safeout\nprovider: docker\ndocker: { image: ${TEST_IMAGE} }\nservices:\n  noisy: { command: sh noisy.sh, restart: "no" }\n`,
    );
    const up = await env.cli(['workspace', 'up', project]);
    assert.equal(up.code, 0, up.stderr);
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    await env.cli(['workspace', 'rm', 'safeout', '--force']).catch(() => undefined);
    await env.cleanup();
  });

  it('`workspace logs` prints the text with every OSC, CSI, C1 control and overwriting CR removed', async () => {
    const r = await env.cli(['workspace', 'logs', 'safeout', 'noisy']);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.includes('start'));
    assert.ok(line, r.stdout);
    assert.ok(!CONTROL.test(r.stdout), JSON.stringify(r.stdout));
    // The C1 CSI takes its `31m` with it, as a terminal would; the carriage return starts a new line.
    assert.match(r.stdout, /start {2}x\nEVIL end\n/, JSON.stringify(r.stdout));
    assert.doesNotMatch(r.stdout, /pwned|Y3VybCBldmlsIHwgc2g/, 'the payloads of the OSC sequences are gone with them');
  });

  it('`workspace logs --json` keeps the line exact, escaped', async () => {
    const r = await env.cli(['workspace', 'logs', 'safeout', 'noisy', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!CONTROL.test(r.stdout.replace(/\n/g, '')), 'the JSON text itself carries no raw control');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ServiceLogLine);
    assert.ok(
      lines.some((l) => l.line.replace(/\n$/, '') === RAW),
      JSON.stringify(lines),
    );
  });
});
