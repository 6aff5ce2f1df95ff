/**
 * The user-data worker in the local `workers` component, fed from the user-data queue by the same pollers (and
 * the same batch semantics) as the other Lambda event sources.
 */
import { USER_DATA_SOURCE } from '../../lambdas/contracts/user-data-tasks';
import { localAsyncClients } from './async-resources';
import { startPollers } from './event-sources';
import type { StackDescription } from './stack';
import { createLocalUserDataQueues, localUserDataEnvironment } from './user-data-resources';

export async function startLocalUserDataWorker(stack: StackDescription): Promise<{ close(): Promise<void> }> {
  Object.assign(process.env, await localUserDataEnvironment(stack.urls));
  const clients = localAsyncClients(stack.urls);
  const queues = await createLocalUserDataQueues(clients.sqs);
  const worker = await import('../../lambdas/user-data-worker/handler');
  const pollers = startPollers({
    ...clients,
    queues: [
      {
        functionName: 'user-data-worker',
        queueUrl: queues.queueUrl,
        queueArn: queues.queueArn,
        handler: (event, context) => worker.handler(event, context),
        batchSize: USER_DATA_SOURCE.batchSize,
        timeoutSeconds: USER_DATA_SOURCE.workerTimeoutSeconds,
      },
    ],
    streams: [],
  });
  console.log(`[workers] exports and erasure sweeps from ${queues.queueUrl}`);
  return {
    close: async () => {
      await pollers.close();
      clients.sqs.destroy();
      clients.kinesis.destroy();
    },
  };
}
