/**
 * The JSON Schemas' validators: in the bundles, ajv's standalone code made at build time
 * (precompiled.ts); from source, compiled once per process (compiling is the slow part of ajv).
 */
import Ajv, { type ValidateFunction } from 'ajv';
import nodesSchema from '../../schemas/nodes.schema.json';
import workspaceSchema from '../../schemas/workspace.schema.json';
import ajvOptions from './ajvOptions.json';
import { precompiled } from './precompiled';

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function compile(name: 'workspace' | 'nodes', schema: object): ValidateFunction {
  let v = compiled.get(name) ?? precompiled?.[name];
  if (!v) {
    // verbose: errors carry their parentSchema, which the messages and did-you-mean use.
    // validateSchema off: checking our own schemas against draft-07 compiled the meta-schema first,
    // ~30 ms at every coordinator and language-server start; test/unit/config/schemas.test.ts
    // checks them against it instead.
    // The options are in ajvOptions.json, shared with the bundles' precompiled validators.
    ajv ??= new Ajv(ajvOptions);
    v = ajv.compile(schema);
    compiled.set(name, v);
  }
  return v;
}

export function workspaceValidator(): ValidateFunction {
  return compile('workspace', workspaceSchema);
}

export function nodesValidator(): ValidateFunction {
  return compile('nodes', nodesSchema);
}

export { nodesSchema, workspaceSchema };
