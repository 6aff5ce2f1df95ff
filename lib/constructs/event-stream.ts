import { Duration, Validations } from 'aws-cdk-lib';
import type { Alarm, Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { ASYNC_EVENT_SOURCES } from '../../lambdas/contracts/events';
import type { AppFunction } from './app-function';
import { alarm, type Watched } from './monitoring/alarm';
import { ONE_MINUTE } from './monitoring/metrics';
import type { AlarmThresholds } from './monitoring/thresholds';

export interface EventStreamProps {
  /** @default 24 hours */
  readonly retentionPeriod?: Duration;
}

const EVENTS = ASYNC_EVENT_SOURCES.events;

export interface EventConsumerOptions {
  /** @default ASYNC_EVENT_SOURCES.events.batchSize (100) */
  readonly batchSize?: number;
  /** @default ASYNC_EVENT_SOURCES.events.maxRetryAttempts (5) */
  readonly retryAttempts?: number;
}

/**
 * The analytics and audit event stream: Kinesis on-demand, encrypted, with Lambda consumers that bisect failing
 * batches, report partial failures and send what still fails to an on-failure queue. Consumer settings come from
 * `ASYNC_EVENT_SOURCES.events`, which the local poller reads too.
 */
export class EventStream extends Construct implements Watched {
  public readonly stream: Stream;
  /** Where records land (as pointers) after their consumer gave up. */
  public readonly failureQueue: Queue;
  private readonly ownAlarms: Record<string, Alarm> = {};

  constructor(scope: Construct, id: string, props: EventStreamProps = {}) {
    super(scope, id);
    this.stream = new Stream(this, 'Stream', {
      streamMode: StreamMode.ON_DEMAND,
      encryption: StreamEncryption.MANAGED,
      retentionPeriod: props.retentionPeriod ?? Duration.hours(24),
    });
    this.failureQueue = new Queue(this, 'FailureQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the on-failure destination of the stream consumers.',
    });
  }

  /** Lets a function put events and sets `EVENTS_STREAM_NAME`. */
  public grantWrite(fn: AppFunction): void {
    this.stream.grantWrite(fn);
    fn.setEnvironment(EnvName.eventsStreamName, this.stream.streamName);
  }

  /**
   * Subscribes a consumer: one batch per shard at a time (in order per partition key), bisect on error, partial
   * failures, bounded retries, then the failure queue.
   */
  public addConsumer(fn: AppFunction, options: EventConsumerOptions = {}): void {
    fn.lambda.addEventSource(
      new KinesisEventSource(this.stream, {
        startingPosition: StartingPosition[EVENTS.startingPosition],
        batchSize: options.batchSize ?? EVENTS.batchSize,
        maxBatchingWindow: Duration.seconds(5),
        parallelizationFactor: EVENTS.parallelizationFactor,
        bisectBatchOnError: EVENTS.bisectBatchOnFunctionError,
        reportBatchItemFailures: true,
        retryAttempts: options.retryAttempts ?? EVENTS.maxRetryAttempts,
        maxRecordAge: Duration.hours(6),
        onFailure: new SqsDlq(this.failureQueue),
      }),
    );
  }

  /** The stream's alarms: consumers fall behind, or give up on records. */
  public get alarms(): Readonly<Record<string, Alarm>> {
    return this.ownAlarms;
  }

  /** Call once, from the stack that owns the stream. */
  public addAlarms(t: AlarmThresholds): void {
    this.ownAlarms.IteratorAge = alarm(this, 'IteratorAgeAlarm', {
      metric: this.metricIteratorAge({ period: ONE_MINUTE }),
      threshold: t.eventsIteratorAgeMs,
      evaluationPeriods: 5,
      description: `Event consumers are more than ${t.eventsIteratorAgeMs} ms behind the stream.`,
    });
    // Nothing reads the failure queue: each message is a batch of events a consumer gave up on.
    this.ownAlarms.FailedBatches = alarm(this, 'FailedBatchesAlarm', {
      metric: this.metricFailedBatches({ period: ONE_MINUTE }),
      threshold: 0,
      description:
        'An event consumer gave up on a batch: its records (shard and sequence numbers) are in the failure queue.',
    });
  }

  /** Age of the oldest unprocessed record seen by consumers. */
  public metricIteratorAge(options?: MetricOptions): Metric {
    return this.stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', ...options });
  }

  public metricIncomingRecords(options?: MetricOptions): Metric {
    return this.stream.metricIncomingRecords({ statistic: 'Sum', ...options });
  }

  public metricWriteThrottles(options?: MetricOptions): Metric {
    return this.stream.metricPutRecordsThrottledRecords({ statistic: 'Sum', ...options });
  }

  /** Batches sent to the on-failure queue (sum of messages Lambda sent there). */
  public metricFailedBatches(options?: MetricOptions): Metric {
    return this.failureQueue.metricNumberOfMessagesSent({ statistic: 'Sum', ...options });
  }
}
