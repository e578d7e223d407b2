/**
 * The schemas' validators as ajv's standalone code, made when the bundles are built
 * (scripts/precompileValidators.mjs replaces this file's contents in them): a CLI command that
 * checks a config then loads code instead of compiling the schema (0.2-1.5 s of every `up` on a
 * busy machine). Run from source (tests, tsx) there is none: validators.ts compiles at run time.
 */
import type { ValidateFunction } from 'ajv';

export const precompiled: Partial<Record<'workspace' | 'nodes', ValidateFunction>> | undefined = undefined;
