/** Replaced at bundle time by esbuild's `define`; read from package.json when run from source. */
import pkg from '../package.json';

declare const VENDETTA_VERSION: string | undefined;

export const VERSION: string = typeof VENDETTA_VERSION === 'string' ? VENDETTA_VERSION : pkg.version;
