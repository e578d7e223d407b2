import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import prettier from 'eslint-config-prettier';

// The part boundaries of DESIGN.md, enforced a second time (tsconfig references are the first).
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', '.vscode-test/', 'test-results/', '.tools/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Line breaks and spacing are Prettier's (npm run format); eslint checks what code means.
  prettier,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['common/**/*.ts'],
    rules: restrict([
      {
        group: ['**/agent/**', '**/coordinator/**', '**/extension/**', 'vscode'],
        message: 'common/ is what every part uses: it imports none of them.',
      },
    ]),
  },
  {
    files: ['agent/**/*.ts'],
    rules: restrict([
      {
        group: ['**/coordinator/**', '**/extension/**', 'vscode'],
        message: 'The agent imports nothing from the coordinator or the extension.',
      },
    ]),
  },
  {
    files: ['agent/protocol/**/*.ts', 'coordinator/protocol/**/*.ts'],
    rules: restrict([
      {
        group: ['**/daemon/**', '**/handlers/**', '**/providers/**', '**/ssh/**', '**/nodes/**', '**/cli/**', 'vscode'],
        message: 'Protocol modules import only vscode-jsonrpc types.',
      },
    ]),
  },
  {
    files: ['coordinator/**/*.ts'],
    ignores: ['coordinator/protocol/**'],
    rules: restrict([
      { group: ['**/extension/**', 'vscode'], message: 'The coordinator does not depend on the extension.' },
      { group: ['**/agent/*', '!**/agent/protocol'], message: 'The coordinator may import only agent/protocol.' },
    ]),
  },
  {
    files: ['extension/**/*.ts'],
    rules: restrict([
      { group: ['**/agent/**'], message: 'The extension talks to the coordinator, never to the agent.' },
      {
        group: ['**/coordinator/*', '!**/coordinator/protocol', '!**/coordinator/config'],
        message: 'The extension may import only coordinator/protocol and coordinator/config.',
      },
    ]),
  },
);
