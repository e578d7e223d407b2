import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProgressPrinter } from '../../../coordinator/cli/output';
import { formatForwards } from '../../../coordinator/cli/serviceOutput';
import { dashesHint } from '../../../coordinator/cli/workspace';
import { formatStatus, formatWorkspaceList } from '../../../coordinator/cli/workspaceOutput';
import { homePaths } from '../../../coordinator/home';
import { nullLogger } from '../../../coordinator/log';
import type { WorkspaceStatus } from '../../../coordinator/protocol';
import { KeptForwards } from '../../../coordinator/services/keptForwards';
import { localTime } from '../../../coordinator/timeText';

/** What a function writes to stderr meanwhile. */
async function stderrOf(fn: () => Promise<void> | void): Promise<string> {
  const write = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stderr.write = ((s: string) => ((out += s), true)) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

describe('what the CLI prints, said once and truthfully', () => {
  it('step counters never go backwards, and a slow step is said while it lasts', async () => {
    const out = await stderrOf(async () => {
      const p = new ProgressPrinter(true, 30);
      p.step(3, 5, 'Creating');
      p.step(2, 5, 'Syncing the build context');
      await new Promise((r) => setTimeout(r, 80));
      p.step(4, 5, 'Pinning');
      p.finish();
    });
    const counters = [...out.matchAll(/^\[(\d)\/5\]/gm)].map((m) => Number(m[1]));
    assert.deepEqual(counters, [3, 3, 3, 4]);
    assert.match(out, /^\[3\/5\] Syncing the build context…$/m);
  });

  it('says to put a command after --, with the words the user typed', () => {
    assert.equal(
      dashesHint('ssh', "error: unknown option '-a'", ['node', 'vendetta', 'workspace', 'ssh', 'hello', 'uname', '-a']),
      "hint: the command's own options go after `--`: `vendetta workspace ssh hello -- uname -a`\n",
    );
    assert.equal(
      dashesHint('exec', "error: unknown option '-l'", [
        'node',
        'v',
        'workspace',
        'exec',
        '--node',
        'b1',
        'hello',
        'ls',
        '-l',
      ]),
      "hint: the command's own options go after `--`: `vendetta workspace exec --node b1 hello -- ls -l`\n",
    );
    assert.equal(dashesHint('ssh', 'error: missing required argument', []), '');
  });

  it('lists forwards with how long each stays', () => {
    assert.equal(formatForwards([]), 'no forwarded ports\n');
    const text = formatForwards([
      {
        workspace: 'a',
        node: 'local',
        port: 80,
        nodePort: 3000,
        localPort: 8080,
        url: 'http://127.0.0.1:8080',
        kept: true,
      },
      {
        workspace: 'b',
        node: 'local',
        port: 81,
        nodePort: 3001,
        localPort: 81,
        url: 'http://127.0.0.1:81',
        kept: false,
      },
    ]);
    assert.match(text, /^a +local +80 +http:\/\/127\.0\.0\.1:8080 +`workspace forward --stop` or `workspace rm`$/m);
    assert.match(text, /^b +local +81 +http:\/\/127\.0\.0\.1:81 +its `workspace forward` ends$/m);
  });

  it('marks a workspace whose up has not finished, in the list and in its status', () => {
    const row = {
      name: 'cut',
      node: 'local',
      provider: 'docker' as const,
      state: 'running' as const,
      sshHost: 'cut.local.vendetta',
      createdAt: '2026-01-02T03:04:05Z',
      workspaceFolder: '/workspaces/cut',
      projectPath: '/p/cut',
      unfinished: { step: 3, total: 6, message: 'Creating cut on local', since: '2026-01-02T03:04:05Z' },
    };
    const list = formatWorkspaceList([row]);
    assert.match(list, /^cut +local +docker +running \(up unfinished\) /m);
    assert.match(
      list,
      /reached step 3\/6 \(Creating cut on local\)\n {2}hint: if it was interrupted, `vendetta up \/p\/cut --name cut` finishes it/,
    );
    const status: WorkspaceStatus = { ...row, image: null, user: 'root', startedAt: null, ssh: null, nodeFolder: null };
    assert.match(formatStatus(status), /^note: the up begun .* has not finished/m);
    assert.match(formatStatus(status), /^started +-$/m);
  });

  it('a workspace its node stopped for being idle says so, with when, in list and status', () => {
    const at = new Date(2026, 11, 5, 7, 12, 3).toISOString();
    const row = {
      name: 'nap',
      node: 'local',
      provider: 'docker' as const,
      state: 'stopped' as const,
      sshHost: 'nap.local.vendetta',
      createdAt: at,
      workspaceFolder: '/workspaces/nap',
      stopped: { reason: 'idle' as const, at },
    };
    assert.match(formatWorkspaceList([row]), /^nap +local +docker +stopped \(idle since 2026-12-05 07:12:03\) /m);
    assert.match(
      formatStatus({ ...row, image: null, user: 'root', startedAt: null, ssh: null, nodeFolder: null }),
      /^state +stopped \(idle since 2026-12-05 07:12:03\)$/m,
    );
    assert.match(
      formatWorkspaceList([{ ...row, stopped: { reason: 'request', at } }]),
      /^nap +local +docker +stopped +nap/m,
    );
  });

  it('reads every moment as local YYYY-MM-DD HH:MM:SS', () => {
    const d = new Date(2026, 0, 2, 3, 4, 5);
    assert.equal(localTime(d.toISOString()), '2026-01-02 03:04:05');
    assert.equal(localTime('not a time'), '-');
    assert.equal(localTime(null), '-');
  });

  describe('kept forwards', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-kept-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('are written, replaced per port, removed, and read back', () => {
      const kept = new KeptForwards(homePaths(dir), nullLogger);
      assert.deepEqual(kept.list(), []);
      kept.add({ workspace: 'a', node: 'local', port: 80, localPort: 8080, nodePort: 3000 });
      kept.add({ workspace: 'a', node: 'local', port: 80, localPort: 8081, nodePort: 3000 });
      kept.add({ workspace: 'a', node: 'local', port: 81, localPort: 8082, nodePort: 3001 });
      assert.deepEqual(
        kept.list().map((k) => k.localPort),
        [8081, 8082],
      );
      kept.remove('a', undefined, 80);
      assert.deepEqual(
        kept.list().map((k) => k.port),
        [81],
      );
      kept.remove('a', 'local');
      assert.deepEqual(kept.list(), []);
    });

    it('a damaged file reads as none, and entries of the wrong shape are skipped', () => {
      const kept = new KeptForwards(homePaths(dir), nullLogger);
      mkdirSync(join(dir, 'state'), { recursive: true });
      writeFileSync(kept.file, '{nope');
      assert.deepEqual(kept.list(), []);
      writeFileSync(
        kept.file,
        JSON.stringify({
          forwards: [
            { workspace: 'a', node: 'local', port: 80, localPort: 8080, nodePort: 3000 },
            { workspace: '../x', node: 'local', port: 1, localPort: 1, nodePort: 1 },
          ],
        }),
      );
      assert.deepEqual(
        kept.list().map((k) => k.workspace),
        ['a'],
      );
    });
  });
});
