// Lint with type information. `strictTypeChecked` catches floating promises and
// unsafe `any`, which matter in callback-heavy network code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/build/**',
      'coverage/**',
      'docs/api/**',
      '**/*.cjs',
      '**/*.mjs',
      'bench/**/*.js',
      // The committed bin shims: plain JS that imports the compiled command.
      'packages/*/bin/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Protocol base classes have empty default hooks on purpose (as Twisted's).
      '@typescript-eslint/no-empty-function': 'off',
      // Numbers in template strings are common in messages and addresses.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Twisted's names are camelCase already; interfaces keep the `I` prefix.
      '@typescript-eslint/consistent-type-definitions': ['error', 'interface'],
      // `void value;` marks a deliberately unused hook argument.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-meaningless-void-operator': 'off',
    },
  },
  {
    files: ['**/test/**/*.ts', 'scripts/*.ts'],
    rules: {
      // chai's `expect(x).to.be.true` is an expression statement.
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
