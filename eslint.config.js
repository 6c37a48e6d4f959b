// Flat config shared by every project. The Nx module-boundary rule turns the architecture
// (apps depend on packages, packages never on apps) into a lint error rather than a convention.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

/** Which kind of project may import which: apps and tools sit on libraries, libraries on libraries. */
const LAYERS = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
  // Recipes are lists of settings handed to train(): the task layer, core, and the results
  // helpers of tools/bench (whose layer benchmarks may import rnn directly).
  { sourceTag: 'type:recipe', onlyDependOnLibsWithTags: ['scope:tasks', 'scope:core', 'scope:bench'] },
];

/**
 * Apps reach models only through the task layer (plus core's runtime and errors, and the job
 * queue): rnn, embeddings and forecast stay behind @seqlab/tasks. Their tests may build fixtures
 * with the model packages directly, so this applies to apps' sources, not their tests.
 */
const APP_SOURCES = [{ sourceTag: 'type:app', onlyDependOnLibsWithTags: ['scope:tasks', 'scope:core', 'scope:jobs'] }];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', 'results/**', 'models/**', '**/public/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      '@nx/enforce-module-boundaries': ['error', { allow: [], depConstraints: [...LAYERS, ...APP_SOURCES] }],
    },
  },
  {
    files: ['apps/*/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', { allow: [], depConstraints: LAYERS }] },
  },
);
