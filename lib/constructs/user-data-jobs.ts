import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type Metric,
  type MetricOptions,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { EXPORT_LIMITS, EXPORTS_KEY_PREFIX, USER_DATA_SOURCE } from '../../lambdas/contracts/user-data-tasks';
import type { AppFunction } from './app-function';
import { grantPrefixObjects } from './prefix-grants';

export interface UserDataJobsProps {
  /** Origins the web app downloads exports from (presigned GETs). @default - none */
  readonly allowedOrigins?: readonly string[];
  /**
   * Days an export object is kept before the lifecycle rule deletes it.
   * @default EXPORT_LIMITS.retentionDays (1)
   */
  readonly exportRetentionDays?: number;
}

const SOURCE = USER_DATA_SOURCE;
const OBJECTS = `${EXPORTS_KEY_PREFIX}*`;

/**
 * Users' data jobs: the queue of export and second-sweep tasks (dead-letter queue after three receives) that the
 * user-data worker consumes, and the exports bucket — private, KMS-encrypted with its own key, TLS-only, each
 * object deleted by a lifecycle rule after a day. The `/v1/me` function queues tasks and presigns downloads;
 * grants set the IAM policy and the environment variables the handlers read.
 */
export class UserDataJobs extends Construct {
  public readonly key: Key;
  public readonly bucket: Bucket;
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  /** Its alarms by name, composed by Monitoring. */
  public readonly alarms: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: UserDataJobsProps = {}) {
    super(scope, id);
    const retentionDays = props.exportRetentionDays ?? EXPORT_LIMITS.retentionDays;
    if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 30) {
      throw new Error(`UserDataJobs exportRetentionDays ${retentionDays} must be an integer from 1 to 30`);
    }
    // Construct ids of the stateful resources are frozen: changing one replaces the resource.
    this.key = new Key(this, 'Key', {
      description: 'chatstack: users’ data exports',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    this.bucket = new Bucket(this, 'ExportsBucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { prefix: EXPORTS_KEY_PREFIX, expiration: Duration.days(retentionDays) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      cors:
        props.allowedOrigins === undefined || props.allowedOrigins.length === 0
          ? undefined
          : [{ allowedOrigins: [...props.allowedOrigins], allowedMethods: [HttpMethods.GET], maxAge: 600 }],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Objects are written by the user-data worker and read through links the /v1/me function signs, both ' +
        'logged (and in CloudTrail); server access logs would add a second log bucket for no new facts.',
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(SOURCE.deadLetterRetentionDays),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the user-data queue.',
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(SOURCE.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(SOURCE.deadLetterRetentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: SOURCE.maxReceiveCount },
    });

    const deadLetters = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'An export or a second erasure sweep kept failing (see the user-data-worker logs); a sweep must be re-run.',
      metric: this.metricDeadLetterMessages(),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // A sweep waits on the queue in steps of at most 15 minutes; more than two steps is a stuck worker.
    const backlog = new Alarm(this, 'BacklogAlarm', {
      alarmDescription: 'User-data tasks wait more than 30 minutes to be processed.',
      metric: this.metricOldestMessageAge(),
      threshold: 2 * SOURCE.maxDelaySeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarms = { DeadLetters: deadLetters, Backlog: backlog };
  }

  /**
   * The `/v1/me` function: queues exports and second sweeps, signs download links of finished exports, and
   * erases a user's export objects (found through their records: no listing). It never writes an export object.
   */
  public grantRequests(fn: AppFunction): void {
    this.queue.grantSendMessages(fn.grantPrincipal);
    this.grantObjects(fn, ['s3:GetObject', 's3:DeleteObject'], ['kms:Decrypt']);
    this.setSettings(fn);
  }

  /** Runs the user-data worker on the queue (one task per invocation, partial failures reported). */
  public addWorker(fn: AppFunction): void {
    const timeout = fn.lambda.timeout?.toSeconds() ?? 3;
    if (timeout * 6 > SOURCE.visibilityTimeoutSeconds) {
      throw new Error(
        `User-data worker timeout ${timeout} s needs a visibility timeout of at least ${timeout * 6} s`,
      );
    }
    fn.lambda.addEventSource(
      new SqsEventSource(this.queue, { batchSize: SOURCE.batchSize, reportBatchItemFailures: true }),
    );
    // A sweep not yet due goes back on its own queue, delayed.
    this.queue.grantSendMessages(fn.grantPrincipal);
    this.grantObjects(
      fn,
      ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
      ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
    );
    this.setSettings(fn);
  }

  public metricDeadLetterMessages(options?: MetricOptions): Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      ...options,
    });
  }

  public metricOldestMessageAge(options?: MetricOptions): Metric {
    return this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', ...options });
  }

  private grantObjects(fn: AppFunction, actions: readonly string[], keyActions: readonly string[]): void {
    grantPrefixObjects(
      fn,
      {
        bucket: this.bucket,
        key: this.key,
        objects: OBJECTS,
        reason:
          'Export objects are keyed per user and export (exports/<owner>/<export id>.jsonl); the handlers build every key from the caller.',
      },
      actions,
      keyActions,
    );
  }

  private setSettings(fn: AppFunction): void {
    fn.setEnvironment(EnvName.userDataQueueUrl, this.queue.queueUrl);
    fn.setEnvironment(EnvName.exportsBucketName, this.bucket.bucketName);
  }
}
