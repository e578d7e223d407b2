/** Replaced at bundle time by esbuild's `define`; read from package.json when run from source. */
declare const VENDETTA_VERSION: string | undefined;

export const VERSION: string =
  typeof VENDETTA_VERSION === 'string' ? VENDETTA_VERSION : (require('../package.json') as { version: string }).version;
