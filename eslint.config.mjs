// Lint with type information. `strictTypeChecked` catches floating promises and
// unsafe `any`, which matter in callback-heavy network code.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// Sockets belong to the reactors: a protocol, codec or helper that imported
// node:net would bypass the reactor and could not run on another one (Bun) or
// in memory. Type-only imports are fine, and so are node:net's pure address
// checks (isIP and friends), which open nothing.
const SOCKET_MODULES = ['net', 'tls', 'dgram'].flatMap((name) =>
  [`node:${name}`, name].map((module) => ({
    name: module,
    message:
      "Sockets are the reactor's job: use the reactor (listenTCP/connectTCP). Only reactor implementations (packages/core/src/internal, packages/reactor-bun/src), tests, scripts and bench may import it.",
    allowTypeImports: true,
    ...(name === 'net' ? { allowImportNames: ['isIP', 'isIPv4', 'isIPv6'] } : {}),
  })),
);

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
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: SOCKET_MODULES }],
    },
  },
  {
    // The reactor implementations, and code that is not shipped.
    files: [
      'packages/core/src/internal/**',
      'packages/reactor-bun/src/**',
      '**/test/**',
      'scripts/**',
      'bench/**',
    ],
    rules: { '@typescript-eslint/no-restricted-imports': 'off' },
  },
  {
    // Import cycles in the shipped sources: a cycle makes evaluation order
    // decide whether a class is defined yet when another module's top level
    // uses it (an `extends` of undefined), and it hides layering mistakes.
    // eslint-plugin-import-x is the maintained fork of eslint-plugin-import
    // (flat config, ESLint 10, a faster resolver), so the check runs inside
    // `npm run lint` with the TypeScript resolver mapping `./x.js` to x.ts;
    // `import type` cycles are ignored, as they vanish at run time.
    files: ['packages/*/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Parse the imported modules as TypeScript too (import-x's typescript preset).
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: 'packages/*/tsconfig.json',
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
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
