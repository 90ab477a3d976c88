// ESLint flat config: `npm run lint` runs it (with `prettier --check`), and `npm test` runs that.
// Syntax-only rules (no type information), so a full run stays in seconds; `tsc` does the type checks.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Files that may use devDependencies: tests, their support code and the benchmark (never part of a service). */
const DEV_FILES = ['test/**', '**/*.spec.ts', 'scripts/bench/**', 'libs/testing/**', 'libs/*/src/testing/**', '*.config.{js,mjs}', 'console/**'];

/**
 * A lib is used through its index (`@app/<lib>`), never through a path inside it: its files may move.
 * The console, bundled for the browser, uses a lib's browser-safe entry, `@app/<lib>/browser`.
 */
const DEEP_ALIAS = {
  regex: '^@app/[^/]+/(?!browser$)',
  message: 'Import the lib through its index: @app/<lib> (@app/<lib>/browser in the console). Export the symbol there if it is missing.',
};

/** A framework's files outside its package index (its `dist/`, constants, enums) are not its API: they change without notice. */
const FRAMEWORK_INTERNALS = {
  regex: '^@nestjs/[^/]+/(dist|constants|enums|utils|interfaces|internal)(/|$)',
  message: 'Import from the package index (@nestjs/<package>); what it does not export is private to Nest.',
};

/**
 * The intake marks its routes that take a query DTO by `@QueryDto()` (UnknownQueryInterceptor reads that
 * mark to refuse query parameters elsewhere); a bare `@Query()` would leave its route unmarked.
 */
const BARE_QUERY = {
  name: '@nestjs/common',
  importNames: ['Query'],
  message: 'Use @QueryDto() (apps/intake/src/http/query-dto.decorator.ts), which marks the route as taking a query DTO.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
    plugins: { 'import-x': importX },
    settings: {
      // The path aliases of tsconfig.json: our own code, sorted after the packages. Whether an import
      // resolves is the typecheck's job; the resolver only tells packages from our files.
      'import-x/internal-regex': '^@app/',
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
    },
    rules: {
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', 'internal', 'parent', 'sibling', 'index'],
          'newlines-between': 'never',
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      'import-x/no-duplicates': 'error',
      // Every package a file imports is declared in package.json; the services only use `dependencies`.
      'import-x/no-extraneous-dependencies': [
        'error',
        { devDependencies: DEV_FILES, optionalDependencies: false, peerDependencies: false, includeTypes: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A `let` declared early because a closure reads it before its one assignment stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-restricted-imports': ['error', { patterns: [DEEP_ALIAS, FRAMEWORK_INTERNALS] }],
    },
  },
  {
    // Apps, scripts, tests and the console reach a lib through `@app/<lib>` only (the console through
    // `@app/<lib>/browser`). Tests follow the same rule as the code: they exercise what a lib exports,
    // and test-only helpers live in `@app/testing`. Tests may still import an app's definitions and
    // the support code under test/ by relative path.
    files: ['apps/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts', 'console/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            DEEP_ALIAS,
            FRAMEWORK_INTERNALS,
            { regex: '^(\\.\\./)+libs/', message: 'Import the lib through its index: @app/<lib> (or @app/<lib>/browser), not a path into libs/.' },
          ],
          paths: [BARE_QUERY],
        },
      ],
    },
  },
  {
    // Inside a lib, a relative path stays in that lib's src/: one that climbs to a `src` folder goes into another lib.
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            DEEP_ALIAS,
            FRAMEWORK_INTERNALS,
            { regex: '^(\\.\\./)+(.+/)?src(/|$)', message: 'Import another lib through its index: @app/<lib>, not a path into its src/.' },
          ],
        },
      ],
    },
  },
  {
    // No `any` in the services' and libs' code; specs may use it to build malformed input on purpose.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    // The plain CommonJS JavaScript: build helpers that run before there is a build, and the Jest configs.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The operator console runs in the browser; Vite bundles it (with its packages) at build time.
    files: ['console/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
  },
  // Last: turns off the rules that only concern layout, which Prettier owns.
  prettier,
);
