// Flat config shared by every project. The Nx module-boundary rule turns the architecture
// (apps depend on packages, packages never on apps) into a lint error rather than a convention.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

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
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            // Apps reach models only through the task layer (plus core's runtime and errors, and
            // the job queue): rnn, embeddings and forecast stay behind @seqlab/tasks.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['scope:tasks', 'scope:core', 'scope:jobs'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
            // Recipes are lists of settings handed to train(): the task layer, core, and the
            // results helpers of tools/bench (whose layer benchmarks may import rnn directly).
            { sourceTag: 'type:recipe', onlyDependOnLibsWithTags: ['scope:tasks', 'scope:core', 'scope:bench'] },
          ],
        },
      ],
    },
  },
);
