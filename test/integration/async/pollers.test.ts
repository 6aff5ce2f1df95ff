import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalAsyncResources } from '../../../scripts/local/async-resources';
import type { RunningPollers, SqsHandler } from '../../../scripts/local/event-sources';
import { type AsyncTestEnvironment, startAsyncEnvironment } from './harness';

/** The local SQS event source mapping: Lambda's batch and failure semantics on fauxqs. */
let env: AsyncTestEnvironment;
let pollers: typeof import('../../../scripts/local/event-sources');
let runs = 0;

beforeAll(async () => {
  env = await startAsyncEnvironment({});
  pollers = await import('../../../scripts/local/event-sources');
}, 60_000);

afterAll(async () => {
  await env?.close();
});

async function run(
  handler: SqsHandler,
  bodies: string[],
): Promise<{ deliveries: string[]; deadLettered: string[] }> {
  const deliveries: string[] = [];
  const deadLettered: string[] = [];
  // Fresh queues per run: a closed poller's abandoned long poll may still take one receive of an old queue.
  const resources = await createLocalAsyncResources(env, {
    suffix: `-run${++runs}`,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 3,
  });
  const running: RunningPollers = pollers.startPollers({
    sqs: env.sqs,
    kinesis: env.kinesis,
    waitTimeSeconds: 1,
    pollIntervalMs: 50,
    streams: [],
    queues: [
      {
        functionName: 'worker',
        queueUrl: resources.queueUrls.jobs,
        queueArn: resources.queueArns.jobs,
        concurrency: 1,
        handler: async (event, context) => {
          deliveries.push(...event.Records.map((record) => record.body));
          return handler(event, context);
        },
      },
      {
        functionName: 'dead-letters',
        queueUrl: resources.queueUrls.jobsDeadLetter,
        queueArn: resources.queueArns.jobsDeadLetter,
        concurrency: 1,
        handler: async (event: SQSEvent) => {
          deadLettered.push(...event.Records.map((record) => record.body));
        },
      },
    ],
  });
  try {
    await env.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: resources.queueUrls.jobs,
        Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    await running.settled({ timeoutMs: 30_000 });
  } finally {
    await running.close();
  }
  return { deliveries: deliveries.sort(), deadLettered: deadLettered.sort() };
}

const failing =
  (bodies: ReadonlySet<string>) =>
  async (event: SQSEvent): Promise<SQSBatchResponse> => ({
    batchItemFailures: event.Records.filter((record) => bodies.has(record.body)).map((record) => ({
      itemIdentifier: record.messageId,
    })),
  });

describe('startPollers (SQS)', () => {
  it('delivers only the messages a batch reported failed again', async () => {
    const failedOnce = new Set(['b']);
    const result = await run(
      async (event) => {
        const response = await failing(failedOnce)(event);
        failedOnce.clear();
        return response;
      },
      ['a', 'b', 'c'],
    );

    expect(result).toEqual({ deliveries: ['a', 'b', 'b', 'c'], deadLettered: [] });
  });

  it('delivers the whole batch again when the invocation crashes', async () => {
    let crashed = false;
    const result = await run(async () => {
      if (!crashed) {
        crashed = true;
        throw new Error('crash');
      }
      return { batchItemFailures: [] };
    }, ['x', 'y']);

    expect(result).toEqual({ deliveries: ['x', 'x', 'y', 'y'], deadLettered: [] });
  });

  it('moves a message that keeps failing to the dead-letter queue after three receives', async () => {
    const result = await run(failing(new Set(['poison'])), ['fine', 'poison']);

    expect(result).toEqual({ deliveries: ['fine', 'poison', 'poison', 'poison'], deadLettered: ['poison'] });
  });
});
