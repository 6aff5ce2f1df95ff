/**
 * The local stack for browser tests: the web app is built first (when its sources changed), then the whole stack
 * starts on free ports. Requests per minute are low so that one test user can reach a real 429.
 */
import { readFile } from 'node:fs/promises';
import type { LocalStackUrls } from '../../../scripts/local/stack';
import { buildWebIfNeeded } from '../../../scripts/local/web-build';
import { startTestStack } from '../../integration/setup/stack';

/** Each test signs in as its own user, so this limit only matters to the rate-limit scenario. */
export const E2E_REQUESTS_PER_MINUTE = 6;

/** The stack's URLs; `stop()` ends it. */
export interface E2eStack {
  readonly urls: LocalStackUrls;
  stop(): Promise<void>;
}

export interface E2eStackOptions {
  /** More environment for the handlers (on top of the e2e quota). A stack started with it is always a new one. */
  readonly handlerEnv?: Readonly<Record<string, string>>;
  /** The local stack's own settings (`scripts/local/config.ts`), e.g. `INFERENCE_COLD_START_MS`. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts the stack, or, when `CHATSTACK_E2E_STACK` names a JSON file of URLs (as `LocalStackUrls`), uses a stack
 * that is already running (started with the same quota) — quicker when iterating on the tests.
 */
export async function startE2eStack(options: E2eStackOptions = {}): Promise<E2eStack> {
  const running = process.env.CHATSTACK_E2E_STACK;
  if (running && options.handlerEnv === undefined && options.env === undefined) {
    const urls = JSON.parse(await readFile(running, 'utf8')) as LocalStackUrls;
    return { urls, stop: async () => undefined };
  }
  await buildWebIfNeeded((line) => {
    if (process.env.CHATSTACK_TEST_LOGS) console.log(`web│ ${line}`);
  });
  return startTestStack({
    handlerEnv: {
      QUOTA_REQUESTS_PER_MINUTE: String(E2E_REQUESTS_PER_MINUTE),
      QUOTA_TOKENS_PER_DAY: '100000000',
      ...options.handlerEnv,
    },
    ...(options.env ? { env: { ...options.env } } : {}),
    ...(process.env.CHATSTACK_TEST_LOGS
      ? { onLog: (component: string, line: string) => console.log(`${component}│ ${line}`) }
      : {}),
  });
}
