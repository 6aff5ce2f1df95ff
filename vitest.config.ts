import { defineConfig } from 'vitest/config';

/**
 * `expect.poll` waits for something to happen (a row to go, a title to arrive): its bound guards against a hang.
 * vitest's 1 s default made it a speed check that a loaded 2-core machine failed now and then.
 */
const POLL = { poll: { timeout: 15_000, interval: 50 } };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // CDK assertion tests synthesize whole stacks (seconds of CPU each); vitest's 5 s default is a guess
          // about the machine, not a bound on the work.
          testTimeout: 30_000,
          // Projects run one after another (they differ in workers): unit, then integration, then browser.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/setup/global.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          expect: POLL,
          // Two cores: the stack, the inference server and the test files share them.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 2 },
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          expect: POLL,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
