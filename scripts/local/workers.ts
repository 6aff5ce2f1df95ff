/**
 * The `workers` component of `npm start`: the jobs worker, the jobs dead-letter consumer, the usage aggregator
 * and the audit log, fed by the emulated event source mappings as Lambda's would feed them.
 */
import { EnvName } from '../../lambdas/contracts/env';
import { ASYNC_EVENT_SOURCES } from '../../lambdas/contracts/events';
import { asyncHandlerEnvironment, createLocalAsyncResources, localAsyncClients } from './async-resources';
import { startPollers } from './event-sources';
import type { StackDescription } from './stack';

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
