import { availableParallelism } from 'node:os';
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
    // At least two files at a time, also on two cores (the default there is one): the slowest files mostly wait
    // on processes they started and on whole minutes of a schedule, and two at once take the run from 16 to 9 min.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
