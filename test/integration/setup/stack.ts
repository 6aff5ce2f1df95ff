/**
 * Starts the whole local stack on free ports in a temporary data directory — the same supervisor `npm start` uses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocalConfig } from '../../../scripts/local/config';
import { freeStackPorts } from '../../../scripts/local/ports';
import {
  type LocalStack,
  type LocalStackUrls,
  type StartOptions,
  startLocalStack as start,
} from '../../../scripts/local/stack';

export interface TestStack {
  readonly urls: LocalStackUrls;
  readonly logs: string[];
  readonly stack: LocalStack;
  stop(): Promise<void>;
}

export async function startTestStack(
  options: StartOptions & { env?: Record<string, string> } = {},
): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chatstack-test-'));
  const ports = await freeStackPorts();
  const config = loadLocalConfig({ ...ports, DATA_DIR: dataDir, DYNAMODB_STORAGE: 'memory', ...options.env });
  const logs: string[] = [];
  const stack = await start(config, {
    ...options,
    onLog: (component, line) => {
      logs.push(`${component}│ ${line}`);
      if (logs.length > 20_000) logs.splice(0, 10_000);
      options.onLog?.(component, line);
    },
    inferenceEnv: { RECORD_REQUESTS: '1', ...options.inferenceEnv },
  });
  return {
    urls: stack.urls,
    logs,
    stack,
    stop: async () => {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
