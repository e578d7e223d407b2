/** Replaced at bundle time by esbuild's `define`; the agent has no package.json on a node. */
declare const VENDETTA_VERSION: string | undefined;

export const AGENT_VERSION: string = typeof VENDETTA_VERSION === 'string' ? VENDETTA_VERSION : '0.0.0-dev';
