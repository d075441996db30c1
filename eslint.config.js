// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Database packages: only libs/storage imports them at run time (elsewhere: `import type` of a transaction handle). */
const SQL_IMPORTS = [
  {
    regex: '^(kysely|pg|pg-copy-streams|@electric-sql/pglite)(/.*)?$',
    allowTypeImports: true,
    message: 'All SQL lives in libs/storage: add a repository method there (a type-only import of Kysely is fine).',
  },
];
/** BullMQ and its board, types included: only libs/queue (`Job` and friends come from @plexus/queue). */
const QUEUE_IMPORTS = [
  {
    regex: '^(bullmq|@nestjs/bullmq|@bull-board/.+)$',
    message: 'All BullMQ access lives in libs/queue: use QueueService, @JobHandler and the types of @plexus/queue.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.plexus/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // House rule: a connector speaks to the hub only through @plexus/sdk (checked again, by path, in test/architecture.spec.ts).
    files: ['connectors/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@plexus/(?!sdk(/testing)?$)',
              message: 'A connector may import only @plexus/sdk (and files in its own folder).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(^|/)apps/', message: 'A lib must not import an app.' }] },
      ],
    },
  },
  // House rules: all SQL lives in libs/storage, all BullMQ in libs/queue (checked again in test/architecture.spec.ts,
  // which also finds queries written in place). Type-only imports of a transaction handle stay allowed.
  {
    files: ['libs/**/*.ts', 'apps/**/*.ts', 'apps/**/*.tsx'],
    ignores: ['**/*.spec.ts', 'libs/storage/**', 'libs/queue/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [...SQL_IMPORTS, ...QUEUE_IMPORTS] }] },
  },
  {
    files: ['libs/storage/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: QUEUE_IMPORTS }] },
  },
  {
    files: ['libs/queue/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: SQL_IMPORTS }] },
  },
  {
    files: ['**/*.spec.ts', '**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
