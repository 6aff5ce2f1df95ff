/**
 * The local user-data resources, as the CDK `UserDataJobs` construct deploys them: the exports bucket (created by
 * the `s3` component) and the queue of export and second-sweep tasks, redriving to its dead-letter queue.
 */
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EnvName } from '../../lambdas/contracts/env';
import { USER_DATA_SOURCE } from '../../lambdas/contracts/user-data-tasks';
import { localAsyncClients } from './async-resources';

export const LOCAL_USER_DATA = {
  bucket: 'chatstack-exports',
  queue: 'chatstack-user-data',
  deadLetterQueue: 'chatstack-user-data-dlq',
} as const;

const arnOf = (queue: string) => `arn:aws:sqs:us-east-1:000000000000:${queue}`;

export interface LocalUserDataQueues {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

/** Creates (idempotently) the user-data queue and its dead-letter queue. */
export async function createLocalUserDataQueues(sqs: SQSClient): Promise<LocalUserDataQueues> {
  const create = async (name: string, attributes: Record<string, string>) => {
    const { QueueUrl: url } = await sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    if (url === undefined) throw new Error(`CreateQueue returned no URL for ${name}`);
    return url;
  };
  const retention = String(USER_DATA_SOURCE.deadLetterRetentionDays * 86_400);
  const deadLetterQueueUrl = await create(LOCAL_USER_DATA.deadLetterQueue, {
    MessageRetentionPeriod: retention,
  });
  const queueUrl = await create(LOCAL_USER_DATA.queue, {
    VisibilityTimeout: String(USER_DATA_SOURCE.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: arnOf(LOCAL_USER_DATA.deadLetterQueue),
      maxReceiveCount: USER_DATA_SOURCE.maxReceiveCount,
    }),
  });
  return {
    queueUrl,
    queueArn: arnOf(LOCAL_USER_DATA.queue),
    deadLetterQueueUrl,
    deadLetterQueueArn: arnOf(LOCAL_USER_DATA.deadLetterQueue),
  };
}

/** The variables the `/v1/me` handler reads for exports and the second erasure sweep. */
export async function localUserDataEnvironment(urls: {
  readonly sqs: string;
  readonly kinesis: string;
}): Promise<Record<string, string>> {
  const clients = localAsyncClients(urls);
  try {
    const queues = await createLocalUserDataQueues(clients.sqs);
    return {
      [EnvName.userDataQueueUrl]: queues.queueUrl,
      [EnvName.exportsBucketName]: LOCAL_USER_DATA.bucket,
    };
  } finally {
    clients.sqs.destroy();
    clients.kinesis.destroy();
  }
}
