/**
 * Lambda's SQS event source mapping, emulated on fauxqs: batches of up to 10; a handler's `batchItemFailures` leave
 * only those messages on the queue (they come back after the visibility timeout), the others are deleted; a thrown
 * error (a crashed invocation) deletes nothing. SQS itself (fauxqs) moves a message to the dead-letter queue after
 * `maxReceiveCount` receives.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ASYNC_EVENT_SOURCES } from '../../../lambdas/contracts/events';
import { LOCAL_REGION } from '../emulators';
import { delay, failedIds, type Invocations, LOCAL_ACCOUNT, lambdaContext } from './invocation';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface QueuePoller {
  /** The function's name, for logs and the Lambda context. */
  readonly functionName: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: SqsHandler;
  /** @default ASYNC_EVENT_SOURCES.jobs.batchSize */
  readonly batchSize?: number;
  /** Batches in flight at once (Lambda scales pollers out). @default 2 */
  readonly concurrency?: number;
  /** The function's timeout, reported by `getRemainingTimeInMillis`. @default 300 s */
  readonly timeoutSeconds?: number;
}

export interface SqsMappingOptions {
  readonly sqs: SQSClient;
  readonly invocations: Invocations;
  readonly signal: AbortSignal;
  /** Long-poll wait of a receive. */
  readonly waitTimeSeconds: number;
  /** Pause after a poller's own failure. */
  readonly pollIntervalMs: number;
  readonly onError: (functionName: string, error: unknown) => void;
}

function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? LOCAL_ACCOUNT,
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
}

/** One poller loop on one queue, until `signal` aborts (run `concurrency` of them per queue). */
export async function pollQueue(options: SqsMappingOptions, poller: QueuePoller): Promise<void> {
  const { sqs, invocations, signal } = options;
  const batchSize = poller.batchSize ?? ASYNC_EVENT_SOURCES.jobs.batchSize;
  while (!signal.aborted) {
    try {
      const { Messages: messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: poller.queueUrl,
          MaxNumberOfMessages: batchSize,
          WaitTimeSeconds: options.waitTimeSeconds,
          MessageSystemAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      );
      if (messages.length === 0) continue;
      await invocations.track(() => deliverQueueBatch(options, poller, messages));
    } catch (error) {
      if (signal.aborted) return;
      options.onError(poller.functionName, error);
      await delay(options.pollIntervalMs, signal);
    }
  }
}

async function deliverQueueBatch(options: SqsMappingOptions, poller: QueuePoller, messages: Message[]) {
  const records = messages.map((message) => toSqsRecord(message, poller.queueArn));
  const result = await options.invocations.invoke(() =>
    poller.handler({ Records: records }, lambdaContext(poller.functionName, poller.timeoutSeconds ?? 300)),
  );
  // A crashed invocation deletes nothing: the whole batch comes back after the visibility timeout.
  if (!result.ok) return;
  const failed = failedIds(result.value, new Set(records.map((record) => record.messageId)));
  if (failed === undefined) return;
  options.invocations.stats.failedRecords += failed.size;
  const done = records.filter((record) => !failed.has(record.messageId));
  if (done.length === 0) return;
  await options.sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: poller.queueUrl,
      Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
    }),
  );
}

/** Nothing visible, in flight or delayed on the queue. */
export async function queueEmpty(sqs: SQSClient, queueUrl: string): Promise<boolean> {
  const { Attributes: attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(attributes).every((count) => Number(count) === 0);
}
