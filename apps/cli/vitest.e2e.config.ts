import { defineConfig } from 'vitest/config';

// End-to-end tests: they build the CLI (and every package it depends on) once, then spawn the
// built binary `node apps/cli/dist/main.js` the way a user would run `seqlab`.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    globalSetup: ['e2e/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
