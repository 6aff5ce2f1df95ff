/**
 * The files ingest function and its dead-letter consumer in the local `workers` component, fed from the ingest
 * queues by the same pollers (and the same batch semantics) as the other Lambda event sources.
 */
import { FILES_INGEST_SOURCE } from '../../lambdas/contracts/files';
import { localAsyncClients } from './async-resources';
import { startPollers } from './event-sources';
import { createLocalFileQueues } from './files-resources';
import type { StackDescription } from './stack';

export async function startLocalFilesIngest(stack: StackDescription): Promise<{ close(): Promise<void> }> {
  const clients = localAsyncClients(stack.urls);
  const queues = await createLocalFileQueues(clients.sqs);
  const [ingest, deadLetters] = await Promise.all([
    import('../../lambdas/files-ingest/handler'),
    import('../../lambdas/files-ingest-dlq/handler'),
  ]);
  const pollers = startPollers({
    ...clients,
    queues: [
      {
        functionName: 'files-ingest',
        queueUrl: queues.queueUrl,
        queueArn: queues.queueArn,
        handler: (event, context) => ingest.handler(event, context),
        batchSize: FILES_INGEST_SOURCE.batchSize,
        timeoutSeconds: FILES_INGEST_SOURCE.workerTimeoutSeconds,
      },
      {
        functionName: 'files-ingest-dlq',
        queueUrl: queues.deadLetterQueueUrl,
        queueArn: queues.deadLetterQueueArn,
        handler: (event, context) => deadLetters.handler(event, context),
        concurrency: 1,
      },
    ],
    streams: [],
  });
  console.log(`[workers] ingesting files from ${queues.queueUrl}`);
  return {
    close: async () => {
      await pollers.close();
      clients.sqs.destroy();
      clients.kinesis.destroy();
    },
  };
}
