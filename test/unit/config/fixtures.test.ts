import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Diagnostic,
  decodeConfigBytes,
  hasErrors,
  loadWorkspaceConfig,
  resolveWorkspaceConfig,
  validateNodesText,
  validateWorkspaceConfigText,
} from '../../../coordinator/config';
import { FIXTURES, devcontainerFixtures, unmatched, yamlFixtures } from '../../fixtures/config/expectations';

function assertWellFormed(diagnostics: readonly Diagnostic[], file: string): void {
  for (const d of diagnostics) {
    assert.equal(d.file, file);
    assert.ok(d.line >= 1 && d.col >= 1, `1-based position: ${d.line}:${d.col}`);
    assert.ok(
      d.endLine > d.line || (d.endLine === d.line && d.endCol >= d.col),
      `end after start: ${JSON.stringify(d)}`,
    );
    assert.ok(d.message.length > 0 && !/\n/.test(d.message), 'a one-line message');
    assert.ok(['error', 'warning', 'info'].includes(d.severity));
  }
}

describe('config fixtures', () => {
  const invalid = yamlFixtures(join(FIXTURES, 'invalid'));
  const valid = yamlFixtures(join(FIXTURES, 'valid'));

  it('has at least 30 invalid and 5 valid workspace configs, each invalid one with an expectation', () => {
    assert.ok(invalid.length >= 30, `${invalid.length} invalid fixtures`);
    assert.ok(valid.length >= 5, `${valid.length} valid fixtures`);
    for (const f of invalid) assert.ok(f.expected.length > 0, `${f.name}.expect.json is missing`);
  });

  describe('rejects each invalid config with the expected message at the exact position', () => {
    for (const f of invalid) {
      it(f.name, async () => {
        const loaded = await loadWorkspaceConfig(f.file);
        assert.equal(loaded.file, f.file);
        assert.equal(loaded.config, undefined);
        assert.ok(hasErrors(loaded.diagnostics), 'at least one error');
        assertWellFormed(loaded.diagnostics, f.file);
        const miss = unmatched(f.expected, loaded.diagnostics);
        assert.equal(miss, undefined, miss);

        // The pure validator (what the language server runs on unsaved text) says the same.
        const decoded = decodeConfigBytes(readFileSync(f.file), f.file);
        const fromText =
          decoded.text === undefined
            ? decoded.diagnostics
            : validateWorkspaceConfigText(decoded.text, f.file).diagnostics;
        assert.deepEqual(fromText, loaded.diagnostics);
      });
    }
  });

  describe('accepts each valid config', () => {
    for (const f of valid) {
      it(f.name, async () => {
        const loaded = await loadWorkspaceConfig(f.file);
        assert.equal(hasErrors(loaded.diagnostics), false, JSON.stringify(loaded.diagnostics));
        assert.ok(loaded.config, 'a config');
        assert.equal(loaded.source, 'vendetta');
        assertWellFormed(loaded.diagnostics, f.file);
        const miss = unmatched(f.expected, loaded.diagnostics);
        assert.equal(miss, undefined, miss);
        if (f.expected.length === 0) assert.deepEqual(loaded.diagnostics, []);
        const resolved = resolveWorkspaceConfig(loaded.config);
        assert.equal(resolved.name, loaded.config.name);
      });
    }
    it('examples/hello', async () => {
      const loaded = await loadWorkspaceConfig(join(FIXTURES, '../../../examples/hello'));
      assert.deepEqual(loaded.diagnostics, []);
      assert.equal(loaded.config?.name, 'hello');
      assert.deepEqual(Object.keys(loaded.config?.services ?? {}), ['db', 'api', 'web']);
    });
  });

  describe('reads .devcontainer/devcontainer.json when a project has no .vendetta/config.yaml', () => {
    for (const f of devcontainerFixtures()) {
      it(f.name, async () => {
        const loaded = await loadWorkspaceConfig(f.dir);
        assert.equal(loaded.source, f.source ?? 'devcontainer');
        assertWellFormed(loaded.diagnostics, loaded.file);
        assert.equal(hasErrors(loaded.diagnostics), !f.valid, JSON.stringify(loaded.diagnostics));
        const miss = unmatched(f.diagnostics, loaded.diagnostics);
        assert.equal(miss, undefined, miss);
        if (f.valid) {
          assert.deepEqual(loaded.diagnostics.length, f.diagnostics.length, JSON.stringify(loaded.diagnostics));
          for (const [k, v] of Object.entries(f.config ?? {}))
            assert.deepEqual((loaded.config as unknown as Record<string, unknown>)[k], v, k);
        } else assert.equal(loaded.config, undefined);
      });
    }
  });

  describe('nodes.yaml', () => {
    for (const f of yamlFixtures(join(FIXTURES, 'nodes/valid'))) {
      it(`accepts ${f.name}`, () => {
        const r = validateNodesText(readFileSync(f.file, 'utf8'), f.file);
        assert.deepEqual(r.diagnostics, []);
        assert.ok(Array.isArray(r.nodes?.nodes));
      });
    }
    for (const f of yamlFixtures(join(FIXTURES, 'nodes/invalid'))) {
      it(`rejects ${f.name} with a located message`, () => {
        const r = validateNodesText(readFileSync(f.file, 'utf8'), f.file);
        assert.equal(r.nodes, undefined);
        assert.ok(hasErrors(r.diagnostics));
        assertWellFormed(r.diagnostics, f.file);
        const miss = unmatched(f.expected, r.diagnostics);
        assert.equal(miss, undefined, miss);
      });
    }
  });
});
