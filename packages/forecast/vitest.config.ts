import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@seqlab/source'] },
  ssr: { resolve: { conditions: ['@seqlab/source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
