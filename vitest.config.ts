import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that move an injected clock in steps while real I/O (HTTP, Redis, SSH, the disk) answers between them, in a
 * few milliseconds of real time a step. Under the load of another test file those milliseconds are not always
 * enough, so these run after the others, one file at a time.
 */
const STEPPED = [
  'packages/core/test/integration/scheduled-week.test.ts',
  'packages/core/test/cluster/{lease,background-lease,drain-handover,slots,restart,download-slots}.test.ts',
  'packages/core/test/generations/ownership.test.ts',
  'packages/core/test/models/download-slots.test.ts',
  'packages/core/test/remote/{ssh-runner,remote-sh,fake-host}.test.ts',
];

// Tests import the packages' TypeScript sources through the "source" export condition,
// so `npm test` needs no build step.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // At least two files at a time, also on two cores (the default there is one): the slowest files mostly wait
    // on processes they started and on whole minutes of a schedule, and two at once take the run from 16 to 10 min.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['packages/{core,server,testkit}/test/**/*.test.ts', 'examples/**/*.test.ts'], exclude: [...configDefaults.exclude, ...STEPPED] },
      },
      { extends: true, test: { name: 'stepped', include: STEPPED, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
