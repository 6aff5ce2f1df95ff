import { Duration, Validations } from 'aws-cdk-lib';
import type { Alarm, Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { ASYNC_EVENT_SOURCES } from '../../lambdas/contracts/events';
import type { AppFunction } from './app-function';
import { alarm, type Watched } from './monitoring/alarm';
import { ONE_MINUTE } from './monitoring/metrics';
import type { AlarmThresholds } from './monitoring/thresholds';

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
export class JobQueue extends Construct implements Watched {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  private readonly workerTimeout: Duration;
  private readonly ownAlarms: Record<string, Alarm> = {};

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

  /** The queue's alarms: a job failed for good, the DLQ handler is stuck, jobs wait too long. */
  public get alarms(): Readonly<Record<string, Alarm>> {
    return this.ownAlarms;
  }

  /** Call once, from the stack that owns the queue. */
  public addAlarms(t: AlarmThresholds): void {
    // The dead-letter handler receives each message at once, so the queue's depth is almost always zero: what
    // it received is what failed.
    this.ownAlarms.DeadLetters = alarm(this, 'DeadLettersAlarm', {
      metric: this.metricDeadLettersReceived({ period: ONE_MINUTE }),
      threshold: 0,
      description: 'Jobs failed repeatedly and were dead-lettered (the jobs-dlq function marks them failed).',
    });
    this.ownAlarms.DeadLettersUnprocessed = alarm(this, 'DeadLettersUnprocessedAlarm', {
      metric: this.metricOldestDeadLetterAge({ period: ONE_MINUTE }),
      threshold: t.jobsDeadLetterOldestMessageAgeSeconds,
      evaluationPeriods: 5,
      description: `A dead-lettered job has waited more than ${t.jobsDeadLetterOldestMessageAgeSeconds} s: the jobs-dlq function is failing.`,
    });
    this.ownAlarms.OldestJobAge = alarm(this, 'OldestJobAgeAlarm', {
      metric: this.metricOldestMessageAge({ period: ONE_MINUTE }),
      threshold: t.jobsQueueOldestMessageAgeSeconds,
      evaluationPeriods: 5,
      description: `The oldest job has waited more than ${t.jobsQueueOldestMessageAgeSeconds} s.`,
    });
  }

  public metricVisibleMessages(options?: MetricOptions): Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...options });
  }

  public metricInFlightMessages(options?: MetricOptions): Metric {
    return this.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', ...options });
  }

  public metricOldestMessageAge(options?: MetricOptions): Metric {
    return this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', ...options });
  }

  /** Dead letters the handler received (sum): SQS counts no "sent" for messages it moves there itself. */
  public metricDeadLettersReceived(options?: MetricOptions): Metric {
    return this.deadLetterQueue.metricNumberOfMessagesReceived({ statistic: 'Sum', ...options });
  }

  public metricOldestDeadLetterAge(options?: MetricOptions): Metric {
    return this.deadLetterQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', ...options });
  }
}
