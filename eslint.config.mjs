// Lint: typescript-eslint's recommended rules, plus the workflow determinism guard.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', URLSearchParams: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', Response: 'readonly', NodeJS: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // CommonJS config files (jest's) share pieces with require().
    files: ['*.config.js', 'test/**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Layers: config → policy → activities → workflows → client / worker → cli / lab. Product code never reads the
    // lab; the worker does not use the client; the connection helper lives below both (src/temporal).
    files: ['src/activities/**/*.ts', 'src/worker/**/*.ts', 'src/client/**/*.ts', 'src/temporal/**/*.ts', 'src/config/**/*.ts', 'src/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/lab/*', '**/cli/*'], message: 'product code must not import the lab or the CLI' }] }],
    },
  },
  {
    files: ['src/worker/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/lab/*', '**/cli/*', '**/client/*'], message: 'the worker must not import the lab, the CLI or the client' }] }] },
  },
  {
    files: ['src/config/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/lab/*', '**/cli/*', '**/client/*', '**/activities/*', '**/workflows/*', '**/worker/*', '**/policy/*'], message: 'config is the bottom layer' }] }] },
  },
  {
    files: ['src/policy/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/lab/*', '**/cli/*', '**/client/*', '**/activities/*', '**/workflows/*', '**/worker/*', '@temporalio/*', 'node:*'], message: 'policy is pure: no I/O, no Temporal' }] }] },
  },
  {
    // Workflows replay: no I/O and no ambient clock or randomness beyond what the SDK makes deterministic.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'net', 'http', 'https', 'child_process', '../activities/*/*', '../lab/*', '../client/*', '../config/load'] }],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'fetch', 'process'],
    },
  },
);
