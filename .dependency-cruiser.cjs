/**
 * `npm run lint` fails on an import cycle between files, type-only imports included
 * (tsPreCompilationDeps: they are read from the TypeScript before it is compiled away).
 * The part boundaries themselves are checked by tsconfig references and eslint.config.mjs.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A file reaches itself through its imports: pass what it needs instead, or move the shared part out.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    exclude: { path: '^(dist|out|node_modules|coverage|\\.tools|\\.vscode-test|test-results)/' },
  },
};
