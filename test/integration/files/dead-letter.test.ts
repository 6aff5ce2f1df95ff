/**
 * Nothing acknowledged is lost: when ingestion keeps failing for a reason that is not the file's (here the
 * object store fails every read), the event is retried, dead-lettered after its last receive, and the file
 * settles as `error` — it never stays `uploaded`, and the queue does not loop. Faults are injected at the
 * object-store boundary; the queues, pollers, table and handlers are the real ones.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileObjectKey } from '../../../lambdas/contracts/files';
import { keys } from '../../../lambdas/contracts/keys';
import { createFileObjects } from '../../../lambdas/files/objects';
import { createIngestDeadLetterHandler, createIngestHandler } from '../../../lambdas/files-ingest/batch';
import { localAsyncClients } from '../../../scripts/local/async-resources';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../scripts/local/emulators';
import { type RunningPollers, startPollers } from '../../../scripts/local/event-sources';
import { createLocalFileQueues, type LocalFileQueues } from '../../../scripts/local/files-resources';
import { until } from '../async/harness';
import { stack } from '../setup/context';
import { retrievalDeps } from './support';

const clients = () => localAsyncClients(stack());
let queues: LocalFileQueues;
let pollers: RunningPollers;
let sqs: ReturnType<typeof clients>['sqs'];
let readAttempts = 0;
/** The file whose ingestion fails. */
const context = { sub: '', fileId: '', objectKey: '' };

beforeAll(async () => {
  const async = clients();
  sqs = async.sqs;
  queues = await createLocalFileQueues(sqs, {
    suffix: `-${randomUUID().slice(0, 8)}`,
    visibilityTimeoutSeconds: 1,
  });
  const s3 = new S3Client({
    endpoint: stack().s3,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  // A bucket of its own: the stack's files bucket would hand the object to the stack's own ingest.
  const bucket = `files-dlq-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const objects = createFileObjects({ s3, bucket });
  const { store, vectors } = retrievalDeps();
  const failingObjects = {
    ...objects,
    read: async () => {
      readAttempts += 1;
      throw new Error('injected: the object store is unavailable');
    },
  };
  const ingest = createIngestHandler({ store, vectors, objects: failingObjects, maxBytes: 1_000_000 });
  const deadLetters = createIngestDeadLetterHandler(store);
  pollers = startPollers({
    ...async,
    waitTimeSeconds: 1,
    pollIntervalMs: 50,
    onError: () => undefined,
    queues: [
      {
        functionName: 'files-ingest',
        queueUrl: queues.queueUrl,
        queueArn: queues.queueArn,
        handler: ingest,
        batchSize: 1,
      },
      {
        functionName: 'files-ingest-dlq',
        queueUrl: queues.deadLetterQueueUrl,
        queueArn: queues.deadLetterQueueArn,
        handler: deadLetters,
        concurrency: 1,
      },
    ],
    streams: [],
  });
  // The object really exists (its size is read first); only reading its bytes fails.
  const sub = `dlq-${randomUUID()}`;
  const fileId = `file-${randomUUID().replaceAll('-', '')}`;
  const objectKey = fileObjectKey(sub, fileId);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: 'hello' }));
  Object.assign(context, { sub, fileId, objectKey });
  await store.createFile({
    ...keys.file(sub, fileId),
    entity: 'file',
    fileId,
    sub,
    filename: 'hello.txt',
    purpose: 'assistants',
    kind: 'text',
    contentType: 'text/plain',
    bytes: 5,
    objectKey,
    status: 'uploaded',
    createdAt: 1,
  });
});

afterAll(async () => {
  await pollers.close();
});

describe('an ingestion that keeps failing', () => {
  it('is retried, dead-lettered, and settles the file as error', async () => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.queueUrl,
        // What S3 sends: the key URL-encoded in an ObjectCreated record.
        MessageBody: JSON.stringify({
          Records: [
            {
              eventName: 'ObjectCreated:Put',
              s3: { object: { key: encodeURIComponent(context.objectKey) } },
            },
          ],
        }),
      }),
    );
    // The file settling is the event we wait for.
    await until(
      async () => (await retrievalDeps().store.getFile(context.sub, context.fileId))?.status !== 'uploaded',
      30_000,
    );
    await pollers.settled({ timeoutMs: 30_000 });
    const file = await retrievalDeps().store.getFile(context.sub, context.fileId);
    expect(file).toMatchObject({ status: 'error', errorCode: 'processing_failed' });
    expect(readAttempts).toBe(3);
    const { Attributes: left = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queues.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    expect(left.ApproximateNumberOfMessages).toBe('0');
  });
});
