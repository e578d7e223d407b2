/** `up`'s warnings: gathered from the config, the agent, the forwards and the sync; how the CLI and VS Code say them. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatUpWarnings } from '../../../coordinator/cli/workspaceOutput';
import { VendettaError } from '../../../coordinator/errors';
import type { UpWarning } from '../../../coordinator/protocol';
import { configWarnings, portNotForwarded, syncConflictWarning } from '../../../coordinator/workspaces/upWarnings';
import { homePaths } from '../../../coordinator/home';
import { nullLogger } from '../../../coordinator/log';
import { WorkspaceManager } from '../../../coordinator/workspaces/manager';
import { rememberUpNotice, takeUpNotice, upWarningLines, upWarningNotice } from '../../../extension/util/upWarnings';
import { FakeWorkspaceAgent, writeProject } from './fakeAgent';

const at = { file: '/p/.devcontainer/devcontainer.json', line: 3, col: 5, endLine: 3, endCol: 9 };
const dotfiles: UpWarning = {
  code: 'DOTFILES_NOT_INSTALLED',
  message: 'Dotfiles not installed: ./install.sh failed (exit 3): boom; the next `up` runs it again',
};
const sync = { files: 3, sent: 0, bytes: 0, deleted: 0, kept: 0, conflicts: [], elapsedMs: 1 };

describe("up's warnings", () => {
  it("takes the config's warnings, located, and leaves its infos out", () => {
    assert.deepEqual(
      configWarnings([
        {
          ...at,
          severity: 'warning',
          code: 'unsupported',
          message: '`appPort` is not supported',
          hint: 'use forwardPorts',
        },
        { ...at, line: 7, severity: 'info', code: 'x', message: 'just so you know' },
      ]),
      [
        {
          code: 'CONFIG_WARNING',
          message: '`appPort` is not supported',
          hint: 'use forwardPorts',
          file: at.file,
          line: 3,
          col: 5,
        },
      ],
    );
  });

  it("an up returns the config's and the agent's warnings (its answer's, its progress lines marked as warnings), and refuses a malformed one as a malformed workspace", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-up-warnings-'));
    try {
      const project = join(dir, 'shop');
      const config = 'name: shop\nprovider: docker\ndocker:\n  image: test/debian:12\n  cpuss: 2\n';
      writeProject(project, { '.vendetta/config.yaml': config, 'README.md': '# shop\n' });
      const agent = new FakeWorkspaceAgent('local', join(dir, 'nodes'));
      const m = new WorkspaceManager({
        paths: homePaths(join(dir, 'home')),
        log: nullLogger,
        nodes: { agentClient: () => agent },
        proxyCommand: ['/usr/bin/node', '/x/vendetta.js', 'ssh-proxy'],
      });
      agent.createWarnings.set('shop', [dotfiles]);
      agent.createSays.push('Warning: the feature ./f sets legacyIds, which Vendetta does not apply', 'Warning? no');
      const r = await m.up(
        { path: project, dotfiles: { repository: 'https://example.com/dots.git' } },
        () => undefined,
      );
      assert.deepEqual(agent.createDotfiles, [{ repository: 'https://example.com/dots.git' }]);
      assert.deepEqual(
        r.warnings.map((w) => [w.code, w.message, w.file, w.line]),
        [
          [
            'CONFIG_WARNING',
            'unknown key `cpuss` in `docker`; did you mean `cpus`?',
            join(project, '.vendetta', 'config.yaml'),
            5,
          ],
          ['NODE_WARNING', 'The feature ./f sets legacyIds, which Vendetta does not apply', undefined, undefined],
          ['DOTFILES_NOT_INSTALLED', dotfiles.message, undefined, undefined],
        ],
      );
      agent.createWarnings.delete('shop');
      agent.createSays.length = 0;
      assert.deepEqual(
        (await m.up({ path: project }, () => undefined)).warnings.map((w) => w.code),
        ['CONFIG_WARNING'],
        'an agent with none (or an older one)',
      );
      for (const bad of [
        {},
        [{ code: 'lower', message: 'm' }],
        [{ code: 'X' }],
        [{ code: 'X', message: 'm'.repeat(2001) }],
      ]) {
        agent.createWarnings.set('shop', bad);
        await assert.rejects(
          m.up({ path: project }, () => undefined),
          (e: unknown) => e instanceof VendettaError && /malformed workspace \(warnings\)/.test(e.message),
          JSON.stringify(bad).slice(0, 80),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says a port that was not forwarded with the reason and its hint, and sync conflicts only when there are some', () => {
    const e = new VendettaError('TUNNEL_FAILED', 'nothing listens on 5432 in the workspace', { hint: 'start it' });
    assert.deepEqual(portNotForwarded(5432, e), {
      code: 'PORT_NOT_FORWARDED',
      message: 'Port 5432 is not forwarded: nothing listens on 5432 in the workspace',
      hint: 'start it',
    });
    assert.deepEqual(syncConflictWarning(null), []);
    assert.deepEqual(syncConflictWarning({ ...sync, conflictCount: 0 }), []);
    assert.match(syncConflictWarning({ ...sync, conflictCount: 1 })[0]!.message, /^1 file changed both here/);
  });

  it("the CLI prints each as warning: (and hint:) lines, but not the config's, which it printed located before the up", () => {
    const config: UpWarning = { code: 'CONFIG_WARNING', message: 'ignored', file: at.file, line: 3, col: 5 };
    const port = portNotForwarded(9, new VendettaError('TUNNEL_FAILED', 'no', { hint: 'try 10' }));
    assert.equal(
      formatUpWarnings([config, dotfiles, port]),
      `warning: ${dotfiles.message}\nwarning: Port 9 is not forwarded: no\nhint: try 10\n`,
    );
    assert.equal(formatUpWarnings([]), '');
  });

  it('VS Code logs every warning and notifies the first but sync conflicts (they have their own notice)', () => {
    const config: UpWarning = { code: 'CONFIG_WARNING', message: 'ignored', hint: 'h', file: at.file, line: 3, col: 5 };
    const conflicts = syncConflictWarning({ ...sync, conflictCount: 2 });
    assert.deepEqual(upWarningLines([config, dotfiles]), [
      `${at.file}:3:5: warning: ignored (hint: h)`,
      `warning: ${dotfiles.message}`,
    ]);
    assert.equal(upWarningNotice('shop', conflicts), undefined);
    assert.equal(upWarningNotice('shop', []), undefined);
    assert.equal(upWarningNotice('shop', [...conflicts, dotfiles]), `shop: ${dotfiles.message}`);
    assert.equal(
      upWarningNotice('shop', [dotfiles, config, config]),
      `shop: ${dotfiles.message} (and 2 more warnings in the log)`,
    );
  });

  it('Reopen keeps the notice for the remote window of that workspace, which shows it once (the reload drops notifications)', async () => {
    const data = new Map<string, unknown>();
    const state = {
      get: <T>(k: string) => data.get(k) as T | undefined,
      update: async (k: string, v: unknown) => void data.set(k, v),
    };
    await rememberUpNotice(state, 'shop.b1.vendetta', 'shop: Dotfiles not installed: …');
    await rememberUpNotice(state, 'api.b1.vendetta', 'api: something');
    await rememberUpNotice(state, 'api.b1.vendetta', undefined);
    assert.equal(
      await takeUpNotice(state, 'api.b1.vendetta'),
      undefined,
      'a later up without warnings forgets the older notice',
    );
    assert.equal(await takeUpNotice(state, 'shop.b1.vendetta'), 'shop: Dotfiles not installed: …');
    assert.equal(await takeUpNotice(state, 'shop.b1.vendetta'), undefined, 'once');
  });
});
