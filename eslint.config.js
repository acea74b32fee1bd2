// Lint rules that keep the architecture honest (../shared/STYLE.md §3): outside src/bin.ts and
// the real context, nothing reads process, the console, the wall clock or global randomness.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const banned = {
  'no-restricted-globals': ['error',
    { name: 'process', message: 'Use ctx (io, env) instead; only src/bin.ts and createRealCtx read process.' },
    { name: 'console', message: 'Write to ctx.io.stdout / ctx.io.stderr.' },
    { name: 'fetch', message: 'Use a vendor client with ctx.http().' },
  ],
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: 'Use ctx.clock.now().' },
    { object: 'Math', property: 'random', message: 'Use ctx.random().' },
    { object: 'process', property: 'exit', message: 'Return an exit code from main().' },
  ],
  'no-restricted-syntax': ['error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use ctx.clock.now().' },
  ],
  'no-restricted-imports': ['error', { paths: [{ name: 'chalk', importNames: ['default'], message: 'Use ctx.color.' }] }],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.test.ts', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/bin.ts', 'src/cli/real-context.ts', 'src/**/*.test.ts'],
    rules: banned,
  },
);
