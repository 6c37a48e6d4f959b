import { defineConfig } from 'vitest/config';

/**
 * The one Vitest set-up every project uses (each project's vitest.config.ts re-exports it).
 * Sources of sibling packages resolve through the `@seqlab/source` export condition, so tests
 * run against TypeScript sources without a build. Separate processes per file keep each file's
 * TensorFlow.js backend and kernel registrations to itself.
 */
export default defineConfig({
  resolve: { conditions: ['@seqlab/source'] },
  ssr: { resolve: { conditions: ['@seqlab/source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Generous: CI and developers share two cores between two projects' suites.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
