import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Diagnostic,
  MAX_CONFIG_BYTES,
  checkConfigText,
  decodeConfigBytes,
  loadWorkspaceConfig,
  validateDevcontainerText,
  validateNodesText,
  validateWorkspaceConfigText,
} from '../../../coordinator/config';
import { FIXTURES, devcontainerFixtures, yamlFixtures } from '../../fixtures/config/expectations';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertDiagnostics(ds: readonly Diagnostic[], what: string): void {
  assert.ok(Array.isArray(ds), what);
  for (const d of ds) {
    assert.ok(
      Number.isInteger(d.line) && d.line >= 1 && Number.isInteger(d.col) && d.col >= 1,
      `${what}: ${JSON.stringify(d)}`,
    );
    assert.notEqual(d.code, 'internal', `${what}: validator bug: ${d.message}`);
  }
}

/** Every validator on one input: none may throw, and each returns located diagnostics. */
function validateAll(text: string, what: string): void {
  assertDiagnostics(validateWorkspaceConfigText(text, 'c.yaml').diagnostics, `workspace ${what}`);
  assertDiagnostics(validateNodesText(text, 'nodes.yaml').diagnostics, `nodes ${what}`);
  assertDiagnostics(validateDevcontainerText(text, 'devcontainer.json', 'p').diagnostics, `devcontainer ${what}`);
}

describe('bad input never crashes the validators', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'vendetta-config-robust-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('refuses a 5 MB file by its size, without reading it', async () => {
    const file = join(tmp, 'huge.yaml');
    writeFileSync(file, 'name: x\n' + '# padding\n'.repeat(500_000));
    const started = Date.now();
    const r = await loadWorkspaceConfig(file);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.col, d.severity]),
      [['too-large', 1, 1, 'error']],
    );
    assert.match(r.diagnostics[0]?.message ?? '', /the file is 4\.8 MiB; a config file may be at most 1 MiB/);
    assert.ok(Date.now() - started < 500, 'refused quickly');
  });

  it('refuses a file just over 1 MiB, and accepts one just under', async () => {
    const over = join(tmp, 'over.yaml');
    writeFileSync(over, 'name: x\n#' + 'x'.repeat(MAX_CONFIG_BYTES - 9) + '\n');
    const refused = (await loadWorkspaceConfig(over)).diagnostics[0];
    assert.equal(refused?.code, 'too-large');
    assert.equal(refused?.message, 'the file is over 1 MiB; a config file may be at most 1 MiB');
    const under = join(tmp, 'under.yaml');
    writeFileSync(under, 'name: x\n#' + 'x'.repeat(MAX_CONFIG_BYTES - 11) + '\n');
    assert.deepEqual((await loadWorkspaceConfig(under)).diagnostics, []);
  });

  it('refuses oversized text from an editor buffer too, by its UTF-8 size', () => {
    assert.equal(checkConfigText('é'.repeat(MAX_CONFIG_BYTES / 2 + 1), 'c.yaml')[0]?.code, 'too-large');
    assert.equal(
      validateWorkspaceConfigText('name: x\n' + '#'.repeat(5 * 1024 * 1024), 'c.yaml').diagnostics[0]?.code,
      'too-large',
    );
  });

  it('locates the first byte that is not UTF-8', () => {
    const bytes = Buffer.concat([
      Buffer.from('name: x\nenv:\n  A: "ok ✓"\n  B: "'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"\n'),
    ]);
    const r = decodeConfigBytes(bytes, 'c.yaml');
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.col]),
      [['not-text', 4, 7]],
    );
    // Overlong encodings and UTF-16 surrogates are not UTF-8 either.
    assert.equal(decodeConfigBytes(Buffer.from([0x61, 0xc0, 0xaf]), 'c').diagnostics[0]?.code, 'not-text');
    assert.equal(decodeConfigBytes(Buffer.from([0xed, 0xa0, 0x80]), 'c').diagnostics[0]?.code, 'not-text');
    assert.equal(decodeConfigBytes(Buffer.from([0xf0, 0x9f, 0x98]), 'c').diagnostics[0]?.code, 'not-text');
    assert.equal(decodeConfigBytes(Buffer.from('name: ✓😀\n'), 'c').text, 'name: ✓😀\n');
  });

  it('survives 2,000 random byte strings', () => {
    const rand = prng(1234);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.alloc(Math.floor(rand() * 200));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      const decoded = decodeConfigBytes(bytes, 'c.yaml');
      assertDiagnostics(decoded.diagnostics, `bytes #${i}`);
      if (decoded.text !== undefined) validateAll(decoded.text, `bytes #${i}`);
    }
  });

  it('survives every truncation of every valid fixture', () => {
    const sources = [
      ...yamlFixtures(join(FIXTURES, 'valid')).map((f) => f.file),
      ...yamlFixtures(join(FIXTURES, 'nodes/valid')).map((f) => f.file),
      ...devcontainerFixtures()
        .filter((f) => f.valid)
        .map((f) => join(f.dir, f.name === 'root-file' ? '.devcontainer.json' : '.devcontainer/devcontainer.json')),
    ].filter((f) => !f.endsWith('.vendetta/config.yaml'));
    let runs = 0;
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (let n = 0; n < text.length; n++) {
        validateAll(text.slice(0, n), `${file} cut at ${n}`);
        runs++;
      }
    }
    assert.ok(runs > 2000, `${runs} truncations`);
  }).timeout(60_000);

  it('survives random edits with YAML and JSON punctuation', () => {
    const rand = prng(99);
    const valid = yamlFixtures(join(FIXTURES, 'valid')).map((f) => readFileSync(f.file, 'utf8'));
    const pieces = [
      ':',
      '- ',
      '{',
      '}',
      '[',
      ']',
      '"',
      "'",
      '&a ',
      '*a',
      '!!str ',
      '|\n',
      '>\n',
      '\t',
      '\n',
      '  ',
      '#',
      ',',
      '? ',
      '---\n',
      '%YAML 1.1\n',
      '\\',
      '<<: *a',
      '\u00e9',
      '\ud83d\ude00',
      '0x',
      '~',
      'null',
      '1e999',
    ];
    for (let i = 0; i < 3000; i++) {
      let text = valid[i % valid.length] ?? '';
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) {
        const at = Math.floor(rand() * (text.length + 1));
        const cut = Math.floor(rand() * 4);
        text = text.slice(0, at) + (pieces[Math.floor(rand() * pieces.length)] ?? '') + text.slice(at + cut);
      }
      validateAll(text, `edit #${i}: ${JSON.stringify(text.slice(0, 80))}`);
    }
  }).timeout(60_000);

  it('refuses a list or mapping used as a key, without printing warnings', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const r = validateWorkspaceConfigText('name: x\nenv:\n  ? [a, b]\n  : c\n', 'c.yaml');
      assert.deepEqual(
        r.diagnostics.map((d) => [d.code, d.line, d.col, d.message]),
        [['yaml-syntax', 3, 5, 'a key must be a plain name, not a list or mapping']],
      );
      // Node emits warnings on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  it('handles deeply nested input', () => {
    validateAll('name: x\nenv: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n', 'nested lists');
    validateAll('{"image": "x", "a": ' + '{"b": '.repeat(5000) + '1' + '}'.repeat(5000) + '}', 'nested objects');
  });
});
