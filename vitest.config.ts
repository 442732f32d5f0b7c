import { defineConfig } from 'vitest/config';

// Tests import the packages' TypeScript sources through the "source" export condition,
// so `npm test` needs no build step.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['packages/{core,server,testkit}/test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
