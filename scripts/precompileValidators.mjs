// ajv's standalone code for the config schemas, with the options coordinator/config/validators.ts
// compiles with at run time; build.mjs puts it in place of coordinator/config/precompiled.ts.
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { readFileSync } from 'node:fs';

const read = (url) => JSON.parse(readFileSync(new URL(url, import.meta.url), 'utf8'));

/** The module's source (CommonJS): `exports.precompiled = {workspace, nodes}`. */
export function precompiledValidatorsSource() {
  const ajv = new Ajv({ ...read('../coordinator/config/ajvOptions.json'), code: { source: true } });
  ajv.addSchema(read('../schemas/workspace.schema.json'), 'workspace');
  ajv.addSchema(read('../schemas/nodes.schema.json'), 'nodes');
  const code = standaloneCode(ajv, { workspace: 'workspace', nodes: 'nodes' });
  return `${code}\nexports.precompiled = { workspace: exports.workspace, nodes: exports.nodes };\n`;
}

/** The esbuild plugin that bundles the standalone code instead of the (empty) precompiled.ts. */
export const precompiledValidators = {
  name: 'precompiled-validators',
  setup(build) {
    let source;
    build.onLoad({ filter: /coordinator[\\/]config[\\/]precompiled\.ts$/ }, () => ({
      contents: (source ??= precompiledValidatorsSource()),
      loader: 'js',
      resolveDir: new URL('..', import.meta.url).pathname,
    }));
  },
};
