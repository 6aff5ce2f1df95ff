/**
 * The local files resources, as the CDK `FileStore` construct deploys them: the bucket, and the ingest queue
 * that the bucket's ObjectCreated events go to, redriving to its dead-letter queue.
 */
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { FILES_INGEST_SOURCE } from '../../lambdas/contracts/files';

export const LOCAL_FILES = {
  bucket: 'chatstack-files',
  queue: 'chatstack-files-ingest',
  deadLetterQueue: 'chatstack-files-ingest-dlq',
} as const;

const arnOf = (queue: string) => `arn:aws:sqs:us-east-1:000000000000:${queue}`;

export interface LocalFileQueues {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

export interface FileQueueOptions {
  /** Name suffix, so a test can have queues of its own on the shared emulator. @default none */
  readonly suffix?: string;
  /** @default FILES_INGEST_SOURCE.visibilityTimeoutSeconds */
  readonly visibilityTimeoutSeconds?: number;
}

/** Creates (idempotently) the ingest queue and its dead-letter queue. */
export async function createLocalFileQueues(
  sqs: SQSClient,
  options: FileQueueOptions = {},
): Promise<LocalFileQueues> {
  const suffix = options.suffix ?? '';
  const queueName = `${LOCAL_FILES.queue}${suffix}`;
  const deadLetterName = `${LOCAL_FILES.deadLetterQueue}${suffix}`;
  const create = async (name: string, attributes: Record<string, string>) => {
    const { QueueUrl: url } = await sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    if (url === undefined) throw new Error(`CreateQueue returned no URL for ${name}`);
    return url;
  };
  const retention = String(FILES_INGEST_SOURCE.deadLetterRetentionDays * 86_400);
  const deadLetterQueueUrl = await create(deadLetterName, { MessageRetentionPeriod: retention });
  const queueUrl = await create(queueName, {
    VisibilityTimeout: String(
      options.visibilityTimeoutSeconds ?? FILES_INGEST_SOURCE.visibilityTimeoutSeconds,
    ),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: arnOf(deadLetterName),
      maxReceiveCount: FILES_INGEST_SOURCE.maxReceiveCount,
    }),
  });
  return {
    queueUrl,
    queueArn: arnOf(queueName),
    deadLetterQueueUrl,
    deadLetterQueueArn: arnOf(deadLetterName),
  };
}
