/**
 * Lambda's event source mappings, emulated for the local stack: pollers that read the SQS queues (fauxqs) and
 * the Kinesis stream (kinesalite) and feed the same handlers the events Lambda delivers (`SQSEvent`,
 * `KinesisStreamEvent`), with the batch sizes and failure semantics of the CDK configuration:
 *
 * - SQS: batches of up to 10; a handler's `batchItemFailures` leave only those messages on the queue (they come
 *   back after the visibility timeout), the others are deleted; a thrown error (a crashed invocation) deletes
 *   nothing. SQS itself (fauxqs) moves a message to the dead-letter queue after `maxReceiveCount` receives.
 * - Kinesis: batches of up to 100 per shard, one at a time, in order. A partial failure retries from the lowest
 *   failed sequence number; a thrown error bisects the batch and retries each half; after `maxRetryAttempts` the
 *   records' metadata goes to the on-failure destination (an SQS queue) and the shard moves on.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  type _Record as KinesisRecord,
  ListShardsCommand,
  ResourceInUseException,
} from '@aws-sdk/client-kinesis';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { EnvName } from '../../lambdas/contracts/env';
import { ASYNC_EVENT_SOURCES } from '../../lambdas/contracts/events';
import type { StackDescription } from './stack';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/** The local queues: the jobs queue, its dead-letter queue, and the events consumers' on-failure destination. */
export const LOCAL_QUEUES = {
  jobs: 'chatstack-jobs',
  jobsDeadLetter: 'chatstack-jobs-dlq',
  eventsFailures: 'chatstack-events-failures',
} as const;
export type LocalQueue = keyof typeof LOCAL_QUEUES;

/** The local streams. */
export const LOCAL_STREAMS = {
  events: { name: 'chatstack-events', shardCount: 2 },
} as const;

export interface AsyncClients {
  readonly sqs: SQSClient;
  readonly kinesis: KinesisClient;
}

export interface AsyncResourceOptions {
  /** @default ASYNC_EVENT_SOURCES.jobs.visibilityTimeoutSeconds */
  readonly visibilityTimeoutSeconds?: number;
  /** @default ASYNC_EVENT_SOURCES.jobs.maxReceiveCount */
  readonly maxReceiveCount?: number;
  /** Name suffix, so several test runs can share one emulator. @default none */
  readonly suffix?: string;
}

export interface LocalAsyncResources {
  readonly queueUrls: Readonly<Record<LocalQueue, string>>;
  readonly queueArns: Readonly<Record<LocalQueue, string>>;
  readonly streams: { readonly events: { readonly name: string; readonly arn: string } };
}

/**
 * Creates the queues (the jobs queue redriving to its dead-letter queue) and the events stream, as the CDK
 * stacks do; idempotent, so every local process may call it.
 */
export async function createLocalAsyncResources(
  clients: AsyncClients,
  options: AsyncResourceOptions = {},
): Promise<LocalAsyncResources> {
  const suffix = options.suffix ?? '';
  const name = (queue: LocalQueue) => `${LOCAL_QUEUES[queue]}${suffix}`;
  const arn = (queue: LocalQueue) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name(queue)}`;
  const create = async (queue: LocalQueue, attributes: Record<string, string>) => {
    const output = await clients.sqs.send(
      new CreateQueueCommand({ QueueName: name(queue), Attributes: attributes }),
    );
    if (output.QueueUrl === undefined) throw new Error(`CreateQueue returned no URL for ${name(queue)}`);
    if (!URL.canParse(output.QueueUrl)) {
      // fauxqs builds `sqs.<region>.<host>` URLs: with an IP address as its `host` option they do not parse.
      throw new Error(
        `The SQS emulator returned an invalid queue URL (${output.QueueUrl}): start fauxqs without a \`host\` option (or with 'localhost').`,
      );
    }
    return output.QueueUrl;
  };
  const fourteenDays = String(ASYNC_EVENT_SOURCES.jobs.deadLetterRetentionDays * 86_400);
  const jobsDeadLetter = await create('jobsDeadLetter', { MessageRetentionPeriod: fourteenDays });
  const eventsFailures = await create('eventsFailures', { MessageRetentionPeriod: fourteenDays });
  const jobs = await create('jobs', {
    VisibilityTimeout: String(
      options.visibilityTimeoutSeconds ?? ASYNC_EVENT_SOURCES.jobs.visibilityTimeoutSeconds,
    ),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: arn('jobsDeadLetter'),
      maxReceiveCount: options.maxReceiveCount ?? ASYNC_EVENT_SOURCES.jobs.maxReceiveCount,
    }),
  });

  const streamName = `${LOCAL_STREAMS.events.name}${suffix}`;
  try {
    await clients.kinesis.send(
      new CreateStreamCommand({ StreamName: streamName, ShardCount: LOCAL_STREAMS.events.shardCount }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const streamArn = await waitForActiveStream(clients.kinesis, streamName);

  return {
    queueUrls: { jobs, jobsDeadLetter, eventsFailures },
    queueArns: {
      jobs: arn('jobs'),
      jobsDeadLetter: arn('jobsDeadLetter'),
      eventsFailures: arn('eventsFailures'),
    },
    streams: { events: { name: streamName, arn: streamArn } },
  };
}

async function waitForActiveStream(kinesis: KinesisClient, streamName: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { StreamDescriptionSummary: summary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (summary?.StreamStatus === 'ACTIVE' && summary.StreamARN) return summary.StreamARN;
    await delay(50);
  }
  throw new Error(`Stream ${streamName} did not become active`);
}

/** The variables the handlers need to reach the local async resources (set them for the api and workers). */
export function asyncHandlerEnvironment(resources: LocalAsyncResources): Record<string, string> {
  return {
    [EnvName.jobsQueueUrl]: resources.queueUrls.jobs,
    [EnvName.eventsStreamName]: resources.streams.events.name,
  };
}

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
export type KinesisHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse | undefined>;

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

export interface StreamPoller {
  readonly functionName: string;
  readonly streamName: string;
  readonly streamArn: string;
  readonly handler: KinesisHandler;
  /** @default ASYNC_EVENT_SOURCES.events.batchSize */
  readonly batchSize?: number;
  /** @default ASYNC_EVENT_SOURCES.events.bisectBatchOnFunctionError */
  readonly bisectBatchOnFunctionError?: boolean;
  /** @default ASYNC_EVENT_SOURCES.events.maxRetryAttempts */
  readonly maxRetryAttempts?: number;
  /** SQS queue receiving the metadata of records that exhausted their retries. */
  readonly onFailureQueueUrl?: string;
  readonly timeoutSeconds?: number;
}

export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly kinesis: KinesisClient;
  readonly queues: readonly QueuePoller[];
  readonly streams: readonly StreamPoller[];
  /** Long-poll wait of a receive (Lambda's pollers wait 20 s). @default 20 */
  readonly waitTimeSeconds?: number;
  /** Pause between reads of a shard with no new records (Lambda reads each shard once a second). @default 1000 */
  readonly pollIntervalMs?: number;
  /** Called with anything a poller itself failed at (not handler failures, which are expected). */
  readonly onError?: (functionName: string, error: unknown) => void;
}

export interface PollerStats {
  invocations: number;
  /** Invocations that threw (a crashed Lambda). */
  crashedInvocations: number;
  /** Records reported in `batchItemFailures`. */
  failedRecords: number;
  /** Kinesis records sent to the on-failure destination. */
  recordsToOnFailure: number;
}

export interface RunningPollers {
  readonly stats: Readonly<PollerStats>;
  /**
   * Resolves once every queue is empty (nothing visible, in flight or delayed) and every shard has been read to
   * its end after this call, with no batch in flight.
   */
  settled(options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

function lambdaContext(functionName: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const fail = () => {
    throw new Error('Use the returned promise instead of the context callbacks.');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
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
      SenderId: attributes.SenderId ?? ACCOUNT,
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: REGION,
  };
}

function toKinesisRecord(record: KinesisRecord, shardId: string, streamArn: string): KinesisStreamRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${ACCOUNT}:role/local-event-source-mapping`,
    awsRegion: REGION,
    eventSourceARN: streamArn,
  };
}

const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Failed item ids of a batch response; `undefined` means the response was not understood (whole batch failed). */
function failedIds(response: unknown, known: ReadonlySet<string>): Set<string> | undefined {
  if (response === undefined || response === null) return new Set();
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return undefined;
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !known.has(id)) return undefined;
    ids.add(id);
  }
  return ids;
}

/** Starts the pollers; they run until `close()`. */
export function startPollers(options: PollerOptions): RunningPollers {
  const { sqs, kinesis } = options;
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const onError = options.onError ?? ((name, error) => console.error(`[pollers] ${name}:`, error));
  const abort = new AbortController();
  const { signal } = abort;
  const stats: PollerStats = {
    invocations: 0,
    crashedInvocations: 0,
    failedRecords: 0,
    recordsToOnFailure: 0,
  };
  let inFlight = 0;
  /** When the last invocation ended: a shard read before it may have missed what that invocation emitted. */
  let lastInvocationEnd = 0;
  /** Per shard consumer: time of the last read that found no new records. */
  const lastEmptyRead = new Map<string, number>();

  async function invoke<T>(
    run: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    stats.invocations += 1;
    try {
      return { ok: true, value: await run() };
    } catch (error) {
      stats.crashedInvocations += 1;
      return { ok: false, error };
    } finally {
      lastInvocationEnd = Date.now();
    }
  }

  async function pollQueue(poller: QueuePoller): Promise<void> {
    const batchSize = poller.batchSize ?? ASYNC_EVENT_SOURCES.jobs.batchSize;
    while (!signal.aborted) {
      try {
        const { Messages: messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: poller.queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
        if (messages.length === 0) continue;
        inFlight += 1;
        try {
          const records = messages.map((message) => toSqsRecord(message, poller.queueArn));
          const result = await invoke(() =>
            poller.handler(
              { Records: records },
              lambdaContext(poller.functionName, poller.timeoutSeconds ?? 300),
            ),
          );
          // A crashed invocation deletes nothing: the whole batch comes back after the visibility timeout.
          if (!result.ok) continue;
          const failed = failedIds(result.value, new Set(records.map((record) => record.messageId)));
          if (failed === undefined) continue;
          stats.failedRecords += failed.size;
          const done = records.filter((record) => !failed.has(record.messageId));
          if (done.length > 0) {
            await sqs.send(
              new DeleteMessageBatchCommand({
                QueueUrl: poller.queueUrl,
                Entries: done.map((record, index) => ({
                  Id: String(index),
                  ReceiptHandle: record.receiptHandle,
                })),
              }),
            );
          }
        } finally {
          inFlight -= 1;
        }
      } catch (error) {
        if (signal.aborted) return;
        onError(poller.functionName, error);
        await delay(pollIntervalMs, signal);
      }
    }
  }

  async function pollShard(poller: StreamPoller, shardId: string): Promise<void> {
    const key = `${poller.functionName}/${shardId}`;
    const batchSize = poller.batchSize ?? ASYNC_EVENT_SOURCES.events.batchSize;
    let iterator: string | undefined;
    while (!signal.aborted) {
      try {
        iterator ??= (
          await kinesis.send(
            new GetShardIteratorCommand({
              StreamName: poller.streamName,
              ShardId: shardId,
              ShardIteratorType: ASYNC_EVENT_SOURCES.events.startingPosition,
            }),
          )
        ).ShardIterator;
        if (iterator === undefined) return; // closed shard
        const readAt = Date.now();
        const output = await kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }),
          {
            abortSignal: signal,
          },
        );
        const records = (output.Records ?? []).map((record) =>
          toKinesisRecord(record, shardId, poller.streamArn),
        );
        if (records.length > 0) {
          inFlight += 1;
          try {
            await deliverShardBatch(poller, shardId, records, 0);
          } finally {
            inFlight -= 1;
          }
        }
        iterator = output.NextShardIterator;
        if (iterator === undefined) return;
        if (records.length === 0) {
          lastEmptyRead.set(key, readAt);
          await delay(pollIntervalMs, signal);
        }
      } catch (error) {
        if (signal.aborted) return;
        onError(poller.functionName, error);
        await delay(pollIntervalMs, signal);
      }
    }
  }

  /** One batch of one shard, with Lambda's retry semantics; returns once every record succeeded or was given up. */
  async function deliverShardBatch(
    poller: StreamPoller,
    shardId: string,
    records: KinesisStreamRecord[],
    retries: number,
  ): Promise<void> {
    if (records.length === 0 || signal.aborted) return;
    const result = await invoke(() =>
      poller.handler({ Records: records }, lambdaContext(poller.functionName, poller.timeoutSeconds ?? 60)),
    );
    let retry: KinesisStreamRecord[][];
    if (result.ok) {
      const failed = failedIds(result.value, new Set(records.map((record) => record.kinesis.sequenceNumber)));
      if (failed !== undefined && failed.size === 0) return;
      // Lambda resumes from the lowest failed sequence number; everything before it is checkpointed.
      const firstFailed =
        failed === undefined ? 0 : records.findIndex((record) => failed.has(record.kinesis.sequenceNumber));
      stats.failedRecords += records.length - firstFailed;
      retry = [records.slice(firstFailed)];
    } else if (
      (poller.bisectBatchOnFunctionError ?? ASYNC_EVENT_SOURCES.events.bisectBatchOnFunctionError) &&
      records.length > 1
    ) {
      const middle = Math.ceil(records.length / 2);
      retry = [records.slice(0, middle), records.slice(middle)];
    } else {
      retry = [records];
    }
    const maxRetryAttempts = poller.maxRetryAttempts ?? ASYNC_EVENT_SOURCES.events.maxRetryAttempts;
    if (retries >= maxRetryAttempts) {
      await sendToOnFailure(poller, shardId, retry.flat(), retries);
      return;
    }
    await delay(pollIntervalMs, signal);
    for (const part of retry) await deliverShardBatch(poller, shardId, part, retries + 1);
  }

  /** What Lambda sends an on-failure destination for a stream batch: where the records are, not the records. */
  async function sendToOnFailure(
    poller: StreamPoller,
    shardId: string,
    records: KinesisStreamRecord[],
    retries: number,
  ) {
    stats.recordsToOnFailure += records.length;
    const first = records[0];
    const last = records[records.length - 1];
    if (poller.onFailureQueueUrl === undefined || first === undefined || last === undefined) return;
    const now = new Date().toISOString();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: poller.onFailureQueueUrl,
        MessageBody: JSON.stringify({
          requestContext: {
            requestId: randomUUID(),
            functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${poller.functionName}`,
            condition: 'RetryAttemptsExhausted',
            approximateInvokeCount: retries + 1,
          },
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          version: '1.0',
          timestamp: now,
          KinesisBatchInfo: {
            shardId,
            startSequenceNumber: first.kinesis.sequenceNumber,
            endSequenceNumber: last.kinesis.sequenceNumber,
            approximateArrivalOfFirstRecord: new Date(
              first.kinesis.approximateArrivalTimestamp * 1000,
            ).toISOString(),
            approximateArrivalOfLastRecord: new Date(
              last.kinesis.approximateArrivalTimestamp * 1000,
            ).toISOString(),
            batchSize: records.length,
            streamArn: poller.streamArn,
          },
        }),
      }),
    );
  }

  async function pollStream(poller: StreamPoller): Promise<void> {
    const { Shards: shards = [] } = await kinesis.send(
      new ListShardsCommand({ StreamName: poller.streamName }),
    );
    await Promise.all(
      shards.flatMap((shard) => (shard.ShardId === undefined ? [] : [pollShard(poller, shard.ShardId)])),
    );
  }

  const loops: Promise<void>[] = [];
  for (const poller of options.queues) {
    for (let worker = 0; worker < (poller.concurrency ?? 2); worker += 1) loops.push(pollQueue(poller));
  }
  for (const poller of options.streams) {
    loops.push(
      pollStream(poller).catch((error: unknown) => {
        if (!signal.aborted) onError(poller.functionName, error);
      }),
    );
  }

  async function queuesEmpty(): Promise<boolean> {
    for (const poller of options.queues) {
      const { Attributes: attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: poller.queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      if (Object.values(attributes).some((count) => Number(count) > 0)) return false;
    }
    return true;
  }

  async function shardsReadSince(since: number): Promise<boolean> {
    const after = Math.max(since, lastInvocationEnd);
    for (const poller of options.streams) {
      const { Shards: shards = [] } = await kinesis.send(
        new ListShardsCommand({ StreamName: poller.streamName }),
      );
      for (const shard of shards) {
        if ((lastEmptyRead.get(`${poller.functionName}/${shard.ShardId}`) ?? 0) <= after) return false;
      }
    }
    return true;
  }

  return {
    stats,
    async settled({ timeoutMs = 60_000 } = {}) {
      const since = Date.now();
      const deadline = since + timeoutMs;
      while (Date.now() < deadline) {
        if (inFlight === 0 && (await queuesEmpty()) && (await shardsReadSince(since)) && inFlight === 0)
          return;
        await delay(Math.min(pollIntervalMs, 100));
      }
      throw new Error(`The pollers did not settle within ${timeoutMs} ms (${inFlight} batches in flight).`);
    },
    async close() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}

/** SDK clients for the local emulators (fauxqs needs an explicit endpoint; kinesalite needs HTTP/1.1). */
export function localAsyncClients(urls: { readonly sqs: string; readonly kinesis: string }): AsyncClients {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  return {
    sqs: new SQSClient({ endpoint: urls.sqs, region: REGION, credentials, useQueueUrlAsEndpoint: false }),
    kinesis: new KinesisClient({
      endpoint: urls.kinesis,
      region: REGION,
      credentials,
      requestHandler: new NodeHttpHandler(),
    }),
  };
}

/**
 * Creates the async resources of the local stack and returns the variables the handler processes need
 * (`JOBS_QUEUE_URL`, `EVENTS_STREAM_NAME`): the api process calls it before loading the jobs handler.
 */
export async function localAsyncEnvironment(stack: StackDescription): Promise<Record<string, string>> {
  const clients = localAsyncClients(stack.urls);
  try {
    return asyncHandlerEnvironment(await createLocalAsyncResources(clients));
  } finally {
    clients.sqs.destroy();
    clients.kinesis.destroy();
  }
}

/**
 * The `workers` component of `npm start`: the jobs worker, the jobs dead-letter consumer, the usage aggregator
 * and the audit log, fed by the pollers as Lambda's event source mappings would feed them.
 */
export async function startLocalWorkers(stack: StackDescription): Promise<{ close(): Promise<void> }> {
  const clients = localAsyncClients(stack.urls);
  const resources = await createLocalAsyncResources(clients);
  Object.assign(process.env, asyncHandlerEnvironment(resources), {
    [EnvName.jobLeaseSeconds]:
      process.env[EnvName.jobLeaseSeconds] ?? String(ASYNC_EVENT_SOURCES.jobs.workerTimeoutSeconds),
  });
  const [worker, deadLetters, usage, audit] = await Promise.all([
    import('../../lambdas/jobs-worker/handler'),
    import('../../lambdas/jobs-dlq/handler'),
    import('../../lambdas/usage-aggregator/handler'),
    import('../../lambdas/audit/handler'),
  ]);
  const events = resources.streams.events;
  const pollers = startPollers({
    ...clients,
    queues: [
      {
        functionName: 'jobs-worker',
        queueUrl: resources.queueUrls.jobs,
        queueArn: resources.queueArns.jobs,
        handler: (event, context) => worker.handler(event, context),
        timeoutSeconds: ASYNC_EVENT_SOURCES.jobs.workerTimeoutSeconds,
      },
      {
        functionName: 'jobs-dlq',
        queueUrl: resources.queueUrls.jobsDeadLetter,
        queueArn: resources.queueArns.jobsDeadLetter,
        handler: (event, context) => deadLetters.handler(event, context),
        concurrency: 1,
      },
    ],
    streams: [
      {
        functionName: 'usage-aggregator',
        streamName: events.name,
        streamArn: events.arn,
        handler: (event, context) => usage.handler(event, context),
        onFailureQueueUrl: resources.queueUrls.eventsFailures,
      },
      {
        functionName: 'audit',
        streamName: events.name,
        streamArn: events.arn,
        handler: (event, context) => audit.handler(event, context),
        onFailureQueueUrl: resources.queueUrls.eventsFailures,
      },
    ],
  });
  console.log(`[workers] polling ${resources.queueUrls.jobs} and stream ${events.name}`);
  return {
    close: async () => {
      await pollers.close();
      clients.sqs.destroy();
      clients.kinesis.destroy();
    },
  };
}
