/**
 * The `s3` component of the local stack: s3rver serving the files bucket, with the bucket's event notification
 * as in the cloud — every ObjectCreated event becomes an SQS message (the S3 event JSON) on the ingest queue.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import S3rver from 's3rver';
import { CORS_ALLOW_HEADERS } from '../../lambdas/contracts/cors';
import { FILES_KEY_PREFIX } from '../../lambdas/contracts/files';
import { localAsyncClients } from './async-resources';
import { LOCAL_CREDENTIALS } from './emulators';
import { createLocalFileQueues, LOCAL_FILES } from './files-resources';
import type { StackDescription } from './stack';
import { LOCAL_USER_DATA } from './user-data-resources';

interface S3EventNotification {
  Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string } } }[];
}

/** CORS for the web app's direct uploads and downloads (presigned URLs). */
function corsConfiguration(origin: string): string {
  const headers = ['content-type', ...CORS_ALLOW_HEADERS].map(
    (name) => `<AllowedHeader>${name}</AllowedHeader>`,
  );
  return `<CORSConfiguration><CORSRule><AllowedOrigin>${origin}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>${headers.join('')}<MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>`;
}

/** Sends with a few retries: S3 delivers its notifications at least once, so should we. */
async function deliver(send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await send();
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((done) => setTimeout(done, 100 * 2 ** attempt));
    }
  }
}

export async function startLocalS3(stack: StackDescription): Promise<{ close(): Promise<void> }> {
  const clients = localAsyncClients(stack.urls);
  const queues = await createLocalFileQueues(clients.sqs);
  // s3rver accepts only access keys it knows: give its account the local credentials. (It checks a presigned
  // URL's expiry but not SigV4 signatures, so a signed Content-Length is enforced only by S3 itself.)
  const { DUMMY_ACCOUNT } = createRequire(import.meta.url)('s3rver/lib/models/account.js') as {
    DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
  };
  DUMMY_ACCOUNT.createKeyPair(LOCAL_CREDENTIALS.accessKeyId, LOCAL_CREDENTIALS.secretAccessKey);
  const server = new S3rver({
    address: stack.config.HOST,
    port: Number(new URL(stack.urls.s3).port),
    directory: join(stack.config.dataDir, 's3'),
    silent: true,
    vhostBuckets: false,
    configureBuckets: [
      { name: LOCAL_FILES.bucket, configs: [corsConfiguration(stack.urls.web)] },
      { name: LOCAL_USER_DATA.bucket, configs: [corsConfiguration(stack.urls.web)] },
    ],
  });
  server.on('event', (event: S3EventNotification) => {
    const created = event.Records.filter(
      (record) =>
        record.eventName.startsWith('ObjectCreated:') &&
        record.s3.bucket.name === LOCAL_FILES.bucket &&
        record.s3.object.key.startsWith(FILES_KEY_PREFIX),
    );
    if (created.length === 0) return;
    deliver(() =>
      clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.queueUrl,
          MessageBody: JSON.stringify({ Records: created }),
        }),
      ),
    ).catch((error: unknown) => console.error('[s3] could not deliver an event notification:', error));
  });
  await server.run();
  console.log(`[s3] files bucket ${LOCAL_FILES.bucket} at ${stack.urls.s3}, events → ${queues.queueUrl}`);
  return {
    close: async () => {
      await server.close();
      clients.sqs.destroy();
      clients.kinesis.destroy();
    },
  };
}
