import { defineConfig } from 'vitest/config';

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
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
