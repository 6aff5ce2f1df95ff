import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ASYNC_EVENT_SOURCES } from '../../lambdas/contracts/events';
import { applicationEnvironment } from '../app-settings';
import type { AppFunctionName, StageConfig } from '../config';
import { AppFunction, TracingPolicy } from '../constructs/app-function';
import { RegionalTable } from '../constructs/data-table';
import { EventStream } from '../constructs/event-stream';
import { JobQueue } from '../constructs/job-queue';
import { grantModeration } from '../constructs/moderation-access';
import { resolveThresholds } from '../constructs/monitoring/thresholds';
import { grantModelsInvoke, type ServedModelEndpoints } from '../constructs/served-models';

export interface AsyncStackProps extends StackProps {
  readonly config: StageConfig;
  readonly tableName: string;
  readonly tableKey: IKey;
  /**
   * The served models, the default first: each model's endpoint in this region and, in the order the client falls
   * over to them, the same model's endpoints in the other regions.
   */
  readonly models: readonly [ServedModelEndpoints, ...ServedModelEndpoints[]];
}

/**
 * The worker's timeout (from the shared contract, like the queue's visibility timeout and the job lease): a job
 * is one non-streaming inference (≤ 60 s at SageMaker) plus bookkeeping.
 */
export const JOBS_WORKER_TIMEOUT = Duration.seconds(ASYNC_EVENT_SOURCES.jobs.workerTimeoutSeconds);

/** Stateless: the job queue and its workers, the event stream and its consumers. */
export class AsyncStack extends Stack {
  public readonly jobQueue: JobQueue;
  public readonly eventStream: EventStream;
  public readonly functions: Readonly<
    Record<'jobs-worker' | 'jobs-dlq' | 'usage-aggregator' | 'audit', AppFunction>
  >;

  constructor(scope: Construct, id: string, props: AsyncStackProps) {
    super(scope, id, props);
    const { config } = props;
    const table = new RegionalTable(this, 'Table', {
      tableName: props.tableName,
      encryptionKey: props.tableKey,
    });
    const logRetention = config.retention.logDays as RetentionDays;
    // One X-Ray write policy for every function of the stack.
    const tracing = new TracingPolicy(this, 'Tracing');
    const fn = (name: AppFunctionName, description: string, timeout: Duration) =>
      new AppFunction(this, pascal(name), {
        functionName: name,
        description,
        logRetention,
        timeout,
        environment: applicationEnvironment(config),
        reservedConcurrentExecutions: config.reservedConcurrency[name],
        tracingPolicy: tracing,
      });

    this.jobQueue = new JobQueue(this, 'Jobs', {
      workerTimeout: JOBS_WORKER_TIMEOUT,
      visibilityTimeout: Duration.seconds(ASYNC_EVENT_SOURCES.jobs.visibilityTimeoutSeconds),
    });
    this.eventStream = new EventStream(this, 'Events');

    const worker = fn('jobs-worker', 'Runs queued chat completion jobs', JOBS_WORKER_TIMEOUT);
    const deadLetters = fn('jobs-dlq', 'Marks dead-lettered jobs as failed', Duration.seconds(30));
    const usage = fn(
      'usage-aggregator',
      'Aggregates usage events into per-user daily totals',
      Duration.minutes(1),
    );
    const audit = fn('audit', 'Writes audit records', Duration.minutes(1));

    // Each function gets the table access its code uses, and no more.
    table.grantReadWriteData(worker);
    // The dead-letter handler reads a job and marks it failed; it deletes nothing.
    table.grantReadAndWriteItems(deadLetters, ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // Event consumers only write: daily totals (put, add) and audit records (put).
    table.grantWriteItems(usage, ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    table.grantWriteItems(audit, ['dynamodb:PutItem']);
    grantModelsInvoke(worker, props.models);
    // Both settle jobs and emit job.completed / job.failed events.
    this.eventStream.grantWrite(worker);
    this.eventStream.grantWrite(deadLetters);
    // The worker runs the same pipeline as the chat function, moderation included.
    grantModeration(worker, config.moderation);

    this.jobQueue.addWorker(worker);
    // A job whose model is waking goes back on the queue, delayed, instead of failing.
    this.jobQueue.grantSendMessages(worker);
    this.jobQueue.addDeadLetterHandler(deadLetters);
    this.eventStream.addConsumer(usage);
    this.eventStream.addConsumer(audit);

    const thresholds = resolveThresholds(config.alarms.thresholds);
    this.jobQueue.addAlarms(thresholds);
    this.eventStream.addAlarms(thresholds);
    for (const each of [worker, deadLetters, usage, audit]) each.addAlarms(thresholds);

    this.functions = {
      'jobs-worker': worker,
      'jobs-dlq': deadLetters,
      'usage-aggregator': usage,
      audit,
    };
  }
}

/** `client-errors` → `ClientErrors`: construct ids of functions. */
export function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
