// Bundles the entry points into dist/ (extension, language server, CLI + coordinator, ssh-proxy, agent). `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { precompiledValidators } from './precompileValidators.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  define: { VENDETTA_VERSION: JSON.stringify(pkg.version) },
  // jsonc-parser's UMD build (its `main`) requires its parts by computed paths a bundle cannot
  // follow; its ESM build bundles cleanly.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  // The config schemas' validators come compiled: a CLI start does not compile them (precompiled.ts).
  plugins: [precompiledValidators],
};

// `vendetta mcp` loads the MCP SDK (and zod), half the size of the rest of the CLI: it gets a
// bundle of its own, dist/mcp.js, required only by that command, so other commands never parse it.
const mcpApart = {
  name: 'mcp-apart',
  setup(build) {
    build.onResolve({ filter: /\/mcp\/server(\.js)?$/ }, () => ({ path: './mcp.js', external: true }));
  },
};

const entries = [
  // The extension host supplies `vscode`.
  { entryPoints: { extension: 'extension/extension.ts' }, target: 'node20', external: ['vscode'] },
  { entryPoints: { languageServer: 'extension/languageServer/server.ts' }, target: 'node20' },
  // ssh2's native add-ons are optional: it falls back to pure JS when they are absent,
  // so the bundle stays self-contained.
  {
    entryPoints: { vendetta: 'coordinator/main.ts' },
    target: 'node20',
    external: ['cpu-features', '*.node'],
    banner: { js: '#!/usr/bin/env node' },
    plugins: [precompiledValidators, mcpApart],
  },
  { entryPoints: { mcp: 'coordinator/mcp/server.ts' }, target: 'node20', external: ['cpu-features', '*.node'] },
  // The ProxyCommand of the generated Host blocks, started for every SSH connection: small on purpose.
  {
    entryPoints: { 'ssh-proxy': 'coordinator/sshProxyMain.ts' },
    target: 'node20',
    external: ['cpu-features', '*.node'],
    banner: { js: '#!/usr/bin/env node' },
  },
  // Copied to nodes and run by whatever Node.js (>= 18) the node has: no node_modules there.
  // ssh2 (the QEMU provider's held connection into each VM) runs on its pure-JS fallback there;
  // ws's native speed-ups are optional too (it requires them in a try and falls back to JavaScript).
  {
    entryPoints: { agent: 'agent/main.ts' },
    target: 'node18',
    external: ['cpu-features', '*.node', 'bufferutil', 'utf-8-validate'],
    banner: { js: '#!/usr/bin/env node' },
  },
];

// ssh2 loads its native ciphers (AES-GCM, ChaCha20-Poly1305 in C) from
// ./crypto/build/Release/sshcrypto.node beside the file that requires it: in the bundles, beside
// dist/vendetta.js and dist/ssh-proxy.js. Without it ssh2 falls back to JavaScript that builds a
// cipher object per packet. It is built for this Node.js by npm's install of ssh2 (when a compiler
// is there); under another Node.js the load fails and ssh2 uses the fallback, as before.
const addon = 'node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node';
if (existsSync(addon)) replaceFile('dist/crypto/build/Release/sshcrypto.node', readFileSync(addon));
else rmSync('dist/crypto', { recursive: true, force: true });

/**
 * Puts a built file in place whole (a new file renamed over the old), and only when it changed: a
 * CLI, agent or test running from dist/ while a build runs never reads half a bundle.
 */
function replaceFile(path, contents) {
  if (existsSync(path) && Buffer.compare(readFileSync(path), contents) === 0) return;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

const contexts = await Promise.all(
  entries.map((e) => esbuild.context({ ...common, ...e, outdir: 'dist', write: watch })),
);
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.error('watching for changes…');
} else {
  const results = await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  for (const r of results) for (const f of r.outputFiles) replaceFile(f.path, f.contents);
}
