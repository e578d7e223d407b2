import assert from 'node:assert/strict';
import Ajv from 'ajv';
import nodesSchema from '../../../schemas/nodes.schema.json';
import workspaceSchema from '../../../schemas/workspace.schema.json';

type Schema = Record<string, unknown> & {
  properties?: Record<string, Schema>;
  definitions?: Record<string, Schema>;
  $ref?: string;
};

/** A property's schema with its $ref target merged in (the property's own keys win). */
function resolved(root: Schema, s: Schema): Schema {
  if (!s.$ref) return s;
  const name = s.$ref.replace('#/definitions/', '');
  const target = root.definitions?.[name];
  assert.ok(target, `unresolved $ref ${s.$ref}`);
  return { ...resolved(root, target), ...s };
}

/** Every property in the schema: a dotted label, its JSON pointer, and its schema. */
function properties(root: Schema): [string, string, Schema][] {
  const out: [string, string, Schema][] = [];
  const walk = (s: Schema, label: string, pointer: string) => {
    for (const [k, p] of Object.entries(s.properties ?? {})) {
      out.push([`${label}${k}`, `${pointer}/properties/${k}`, p]);
      // Follow nested objects written inline; $ref targets are walked as definitions below.
      if (!p.$ref) walk(p, `${label}${k}.`, `${pointer}/properties/${k}`);
    }
  };
  walk(root, '', '#');
  for (const [name, def] of Object.entries(root.definitions ?? {})) walk(def, `#${name}.`, `#/definitions/${name}`);
  return out;
}

for (const [title, schema] of [
  ['workspace', workspaceSchema],
  ['nodes', nodesSchema],
] as const) {
  describe(`the ${title} schema documents every field`, () => {
    const root = schema as unknown as Schema;
    const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true });
    ajv.addSchema(schema);

    it('has an $id and draft-07, and is valid against the draft-07 meta-schema', () => {
      assert.match(String(root.$id), /^https:\/\/.+\.schema\.json$/);
      assert.equal(root.$schema, 'http://json-schema.org/draft-07/schema#');
      // The product's validators skip this check at run time (it costs a meta-schema compile).
      assert.equal(ajv.validateSchema(schema), true, ajv.errorsText());
      assert.equal(
        ajv.validateSchema({ ...schema, properties: { x: { type: 'no-such-type' } } }),
        false,
        'the check can fail',
      );
    });

    for (const [label, pointer, prop] of properties(root)) {
      it(`${label}: a description, examples, and a default and examples that are themselves valid`, () => {
        const full = resolved(root, prop);
        assert.ok(typeof full.description === 'string' && full.description.length > 10, 'description');
        const examples = full.examples as unknown[] | undefined;
        const isObjectWithDocumentedChildren = full.type === 'object' && full.properties !== undefined;
        if (!isObjectWithDocumentedChildren) assert.ok(Array.isArray(examples) && examples.length > 0, 'examples');
        const validate = ajv.getSchema(`${String(root.$id)}${pointer}`);
        assert.ok(validate, pointer);
        for (const ex of examples ?? [])
          assert.ok(validate(ex), `example ${JSON.stringify(ex)}: ${ajv.errorsText(validate.errors)}`);
        if ('default' in full)
          assert.ok(
            validate(full.default),
            `default ${JSON.stringify(full.default)}: ${ajv.errorsText(validate.errors)}`,
          );
      });
    }
  });
}

describe('the workspace schema', () => {
  it('lists the three providers', () => {
    assert.deepEqual((workspaceSchema.properties.provider as { enum: string[] }).enum, ['docker', 'lxc', 'qemu']);
  });

  it('writes durations as a number and ms, s, m or h', () => {
    const re = new RegExp(workspaceSchema.definitions.duration.pattern);
    for (const ok of ['500ms', '2s', '1m', '1h']) assert.ok(re.test(ok), ok);
    for (const bad of ['2', '2 s', '1.5s', '1d', '-1s']) assert.ok(!re.test(bad), bad);
  });
});
