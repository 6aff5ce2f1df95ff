import { Duration, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { ASYNC_EVENT_SOURCES } from '../../lambdas/contracts/events';
import type { AppFunction } from './app-function';

const JOBS = ASYNC_EVENT_SOURCES.jobs;
/** Visibility timeout per second of worker timeout (6: AWS's guidance for Lambda consumers of SQS). */
const VISIBILITY_PER_WORKER_SECOND = JOBS.visibilityTimeoutSeconds / JOBS.workerTimeoutSeconds;

export interface JobQueueProps {
  /**
   * Timeout of the worker function: the queue's visibility timeout must cover 6× this, and a worker's lease on a
   * job (`JOB_LEASE_SECONDS`) equals it.
   * @default ASYNC_EVENT_SOURCES.jobs.workerTimeoutSeconds (300 s)
   */
  readonly workerTimeout?: Duration;
  /** @default 6 × workerTimeout (AWS's guidance for Lambda consumers; ASYNC_EVENT_SOURCES.jobs) */
  readonly visibilityTimeout?: Duration;
  /** Receives before a job moves to the dead-letter queue. @default ASYNC_EVENT_SOURCES.jobs.maxReceiveCount (3) */
  readonly maxReceiveCount?: number;
  /** @default ASYNC_EVENT_SOURCES.jobs.deadLetterRetentionDays (14 days, the SQS maximum) */
  readonly retentionPeriod?: Duration;
}

/**
 * The long-running job queue: SSE, TLS-only, 14-day retention, a dead-letter queue after three receives, and a
 * worker event source that reports partial batch failures. Batch sizes and failure handling come from
 * `ASYNC_EVENT_SOURCES.jobs`, which the local poller reads too.
 */
export class JobQueue extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  private readonly workerTimeout: Duration;

  constructor(scope: Construct, id: string, props: JobQueueProps = {}) {
    super(scope, id);
    this.workerTimeout = props.workerTimeout ?? Duration.seconds(JOBS.workerTimeoutSeconds);
    const workerSeconds = this.workerTimeout.toSeconds();
    const visibilityTimeout =
      props.visibilityTimeout ?? Duration.seconds(workerSeconds * VISIBILITY_PER_WORKER_SECOND);
    if (visibilityTimeout.toSeconds() < workerSeconds * 6) {
      throw new Error(
        `JobQueue visibility timeout (${visibilityTimeout.toSeconds()} s) must be at least 6× the worker timeout ` +
          `(${workerSeconds} s)`,
      );
    }
    if (visibilityTimeout.toSeconds() > 43_200) {
      throw new Error(
        `JobQueue visibility timeout ${visibilityTimeout.toSeconds()} s exceeds SQS's 12 hours`,
      );
    }
    const retentionPeriod = props.retentionPeriod ?? Duration.days(JOBS.deadLetterRetentionDays);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the job queue.',
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
      visibilityTimeout,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? JOBS.maxReceiveCount,
      },
    });
  }

  /** Lets a function enqueue jobs and sets `JOBS_QUEUE_URL`. */
  public grantSendMessages(fn: AppFunction): void {
    this.queue.grantSendMessages(fn);
    fn.setEnvironment(EnvName.jobsQueueUrl, this.queue.queueUrl);
  }

  /**
   * Runs the worker on the queue: partial batch failures are retried alone, then dead-lettered. Sets
   * `JOB_LEASE_SECONDS` to the worker's timeout, so a claim on a job lasts exactly as long as one invocation may.
   */
  public addWorker(fn: AppFunction, options: { readonly batchSize?: number } = {}): void {
    const timeout = fn.lambda.timeout?.toSeconds() ?? 3;
    if (timeout > this.workerTimeout.toSeconds()) {
      throw new Error(
        `Worker timeout ${timeout} s exceeds the ${this.workerTimeout.toSeconds()} s the queue was sized for`,
      );
    }
    fn.lambda.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: options.batchSize ?? JOBS.batchSize,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
      }),
    );
    fn.setEnvironment(EnvName.jobLeaseSeconds, String(timeout));
  }

  /** Processes dead letters (marks their jobs failed); failures stay on the DLQ until retention ends. */
  public addDeadLetterHandler(fn: AppFunction): void {
    fn.lambda.addEventSource(
      new SqsEventSource(this.deadLetterQueue, {
        batchSize: JOBS.batchSize,
        reportBatchItemFailures: true,
      }),
    );
  }

  public metricVisibleMessages(options?: MetricOptions): Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...options });
  }

  public metricOldestMessageAge(options?: MetricOptions): Metric {
    return this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', ...options });
  }

  /** Messages waiting in the dead-letter queue (alarm when above zero). */
  public metricDeadLetterMessages(options?: MetricOptions): Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      ...options,
    });
  }
}
