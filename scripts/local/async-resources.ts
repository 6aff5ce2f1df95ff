/**
 * The local stack's queues and stream, provisioned on the emulators (fauxqs, kinesalite) as the CDK stacks create
 * them: the jobs queue redriving to its dead-letter queue, the events consumers' on-failure queue, the events
 * stream. Idempotent, so every local process may call it.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ResourceInUseException,
} from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { EnvName } from '../../lambdas/contracts/env';
import { ASYNC_EVENT_SOURCES } from '../../lambdas/contracts/events';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './emulators';
import { LOCAL_ACCOUNT } from './event-sources/invocation';
import type { StackDescription } from './stack';

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

/** Creates the queues and the events stream; returns where they are. */
export async function createLocalAsyncResources(
  clients: AsyncClients,
  options: AsyncResourceOptions = {},
): Promise<LocalAsyncResources> {
  const suffix = options.suffix ?? '';
  const name = (queue: LocalQueue) => `${LOCAL_QUEUES[queue]}${suffix}`;
  const arn = (queue: LocalQueue) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name(queue)}`;
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

/** kinesalite creates streams asynchronously: bounded polling until the stream is active. */
async function waitForActiveStream(kinesis: KinesisClient, streamName: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { StreamDescriptionSummary: summary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (summary?.StreamStatus === 'ACTIVE' && summary.StreamARN) return summary.StreamARN;
    await new Promise((resolve) => setTimeout(resolve, 50));
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

/** SDK clients for the local emulators (fauxqs needs an explicit endpoint; kinesalite needs HTTP/1.1). */
export function localAsyncClients(urls: { readonly sqs: string; readonly kinesis: string }): AsyncClients {
  const credentials = { ...LOCAL_CREDENTIALS };
  return {
    sqs: new SQSClient({
      endpoint: urls.sqs,
      region: LOCAL_REGION,
      credentials,
      useQueueUrlAsEndpoint: false,
    }),
    kinesis: new KinesisClient({
      endpoint: urls.kinesis,
      region: LOCAL_REGION,
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
