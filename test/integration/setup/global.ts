/**
 * Global setup of the integration project: one local stack for all test files, its URLs provided to the tests
 * (`inject('stack')`, or `stack()` from ./context).
 */
import type { TestProject } from 'vitest/node';
import { ensureEngine } from '../../../gpu-endpoint/scripts/build-engine';
import type { LocalStackUrls } from '../../../scripts/local/stack';
import { startTestStack } from './stack';

/** The per-user file storage quota of the test stack. */
export const FILES_TEST_QUOTA_BYTES = 3_000_000;

declare module 'vitest' {
  export interface ProvidedContext {
    stack: LocalStackUrls;
  }
}

/**
 * Limits for handlers that serve the shared test clients: those two users make every file's requests (in parallel
 * files), so their limits are lifted; the limits themselves are tested on users of their own.
 */
export const SHARED_CLIENT_LIMITS = {
  QUOTA_REQUESTS_PER_MINUTE: '100000',
  QUOTA_READS_PER_MINUTE: '100000',
  QUOTA_WRITES_PER_MINUTE: '100000',
  QUOTA_TOKENS_PER_DAY: '100000000',
} as const;

export default async function setup(project: TestProject) {
  // First run on a machine: llama-server is compiled here (minutes), with its progress on the console.
  await ensureEngine({ onProgress: (line) => console.log(`[engine:build] ${line}`) });
  const running = await startTestStack({
    // Two models, so choosing one is tested: the second is a smaller generated model on its own server.
    env: { MODEL_2_PATH: 'generated' },
    handlerEnv: {
      ...SHARED_CLIENT_LIMITS,
      // The admin cost report's prices (per million tokens): 1 per prompt token, 2 per answer token.
      MODEL_PRICES: JSON.stringify({ '*': { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000 } }),
      // Small enough that the files tests can reach it with small files.
      FILES_QUOTA_BYTES_PER_USER: String(FILES_TEST_QUOTA_BYTES),
    },
    onLog: process.env.CHATSTACK_TEST_LOGS
      ? (component, line) => console.log(`${component}│ ${line}`)
      : undefined,
  });
  project.provide('stack', running.urls);
  return async () => {
    await running.stop();
  };
}
