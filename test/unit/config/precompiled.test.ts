import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import ajvOptions from '../../../coordinator/config/ajvOptions.json';
import nodesSchema from '../../../schemas/nodes.schema.json';
import workspaceSchema from '../../../schemas/workspace.schema.json';
import { FIXTURES, yamlFixtures } from '../../fixtures/config/expectations';

const ROOT = join(__dirname, '..', '..', '..');

/** The bundles' validators: the module scripts/build.mjs puts in place of precompiled.ts, loaded as it runs there. */
async function bundledValidators(): Promise<Record<'workspace' | 'nodes', ValidateFunction>> {
  // A real import() of the ES module (the test runs as CommonJS, which would turn it into a require).
  const load = new Function('url', 'return import(url)') as (
    url: string,
  ) => Promise<{ precompiledValidatorsSource(): string }>;
  const { precompiledValidatorsSource } = await load(join(ROOT, 'scripts', 'precompileValidators.mjs'));
  const mod = { exports: {} as { precompiled?: Record<'workspace' | 'nodes', ValidateFunction> } };
  new Function('require', 'module', 'exports', precompiledValidatorsSource())(
    createRequire(join(ROOT, 'package.json')),
    mod,
    mod.exports,
  );
  assert.ok(mod.exports.precompiled);
  return mod.exports.precompiled;
}

/** Every YAML fixture, as the object the validator sees (the ones that do not parse are left out). */
function inputs(dir: string): Array<{ name: string; value: unknown }> {
  return yamlFixtures(join(FIXTURES, dir)).flatMap((f) => {
    try {
      return [{ name: f.name, value: parse(readFileSync(f.file, 'utf8')) as unknown }];
    } catch {
      return [];
    }
  });
}

describe("the bundles' precompiled config validators", () => {
  it('judge every fixture exactly as the validators compiled at run time, errors and all', async function () {
    this.timeout(60_000);
    const bundled = await bundledValidators();
    const ajv = new Ajv(ajvOptions);
    const cases = [
      { which: 'workspace', schema: workspaceSchema, dirs: ['valid', 'invalid'] },
      { which: 'nodes', schema: nodesSchema, dirs: ['nodes/valid', 'nodes/invalid'] },
    ] as const;
    for (const { which, schema, dirs } of cases) {
      const compiled = ajv.compile(schema);
      const all = dirs.flatMap(inputs);
      assert.ok(all.length >= 10, `${all.length} ${which} fixtures`);
      let invalid = 0;
      for (const { name, value } of all) {
        const ok = compiled(value);
        assert.equal(bundled[which](value), ok, `${which} ${name}`);
        assert.deepEqual(bundled[which].errors, compiled.errors, `${which} ${name}: the same errors`);
        if (!ok) invalid++;
      }
      assert.ok(invalid >= 3, `${invalid} ${which} fixtures the schema refuses`);
    }
  });
});
