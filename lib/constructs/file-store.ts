import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type Metric,
  type MetricOptions,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, HttpMethods } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { CfnIndex, CfnVectorBucket } from 'aws-cdk-lib/aws-s3vectors';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { FILE_LIMITS, FILES_INGEST_SOURCE, FILES_KEY_PREFIX } from '../../lambdas/contracts/files';
import { acknowledgeManagedPolicy } from '../nag';
import type { AppFunction } from './app-function';
import { grantPrefixObjects } from './prefix-grants';

export interface FileStoreProps {
  /** Largest file accepted (presigned uploads). @default FILE_LIMITS.defaultMaxBytes (50 MB) */
  readonly maxFileBytes?: number;
  /** Bytes of files one user may store. @default FILE_LIMITS.defaultQuotaBytesPerUser (500 MB) */
  readonly quotaBytesPerUser?: number;
  /**
   * Bedrock embedding model for vector retrieval, e.g. `amazon.titan-embed-text-v2:0`.
   * @default - none: retrieval is BM25 only and the vector index stays empty
   */
  readonly embeddingModelId?: string;
  /** Dimension of the embedding model's vectors. @default 1024 (Titan Text Embeddings V2) */
  readonly vectorDimensions?: number;
  /** Origins allowed to PUT and GET through presigned URLs (the web app). @default - none */
  readonly allowedOrigins?: readonly string[];
}

const SOURCE = FILES_INGEST_SOURCE;
const OBJECTS = `${FILES_KEY_PREFIX}*`;

/**
 * Users' uploaded files and what retrieval needs of them: a private, KMS-encrypted, TLS-only bucket whose
 * ObjectCreated events go to an SQS queue (dead-letter queue after three receives) consumed by the ingest
 * function, and an Amazon S3 Vectors bucket and index for chunk vectors. Chunks themselves live in the table.
 * Grants set the IAM policy and the environment variables the handlers read.
 */
export class FileStore extends Construct {
  public readonly key: Key;
  public readonly bucket: Bucket;
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly vectorBucket: CfnVectorBucket;
  public readonly vectorIndex: CfnIndex;
  /** Dead letters waiting (a file that kept failing; its record is settled as `error`). */
  /** Its alarms by name, composed by Monitoring. */
  public readonly alarms: Readonly<Record<string, Alarm>>;
  public readonly deadLetterAlarm: Alarm;
  /** An upload waited more than 15 minutes to be ingested. */
  public readonly ingestBacklogAlarm: Alarm;
  private readonly settings: Partial<Record<EnvName, string>>;
  private readonly embeddingModelId: string | undefined;

  constructor(scope: Construct, id: string, props: FileStoreProps = {}) {
    super(scope, id);
    const maxFileBytes = props.maxFileBytes ?? FILE_LIMITS.defaultMaxBytes;
    const quotaBytesPerUser = props.quotaBytesPerUser ?? FILE_LIMITS.defaultQuotaBytesPerUser;
    if (maxFileBytes < FILE_LIMITS.maxInlineBytes || maxFileBytes > 5 * 1024 ** 3) {
      throw new Error(
        `FileStore maxFileBytes ${maxFileBytes} must be between ${FILE_LIMITS.maxInlineBytes} and 5 GiB`,
      );
    }
    if (quotaBytesPerUser < maxFileBytes) {
      throw new Error(
        `FileStore quotaBytesPerUser ${quotaBytesPerUser} is below maxFileBytes ${maxFileBytes}`,
      );
    }
    const dimensions = props.vectorDimensions ?? 1024;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096) {
      throw new Error(`FileStore vectorDimensions ${dimensions} must be an integer from 1 to 4096`);
    }
    this.embeddingModelId = props.embeddingModelId;

    // Construct ids of the stateful resources are frozen: changing one replaces the resource.
    this.key = new Key(this, 'Key', {
      description: 'chatstack: users’ uploaded files',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      cors:
        props.allowedOrigins === undefined || props.allowedOrigins.length === 0
          ? undefined
          : [
              {
                allowedOrigins: [...props.allowedOrigins],
                allowedMethods: [HttpMethods.PUT, HttpMethods.GET],
                allowedHeaders: ['content-type'],
                maxAge: 600,
              },
            ],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Every access goes through the files API and ingest functions, whose requests CloudTrail and the ' +
        'functions’ own logs record; server access logs would add a second log bucket for no new facts.',
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(SOURCE.deadLetterRetentionDays),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the files ingest queue.',
    });
    // SSE-SQS, not a customer key: S3 event notifications can only be sent to such a queue without key grants.
    this.queue = new Queue(this, 'IngestQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(SOURCE.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(SOURCE.deadLetterRetentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: SOURCE.maxReceiveCount },
    });
    this.bucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(this.queue), {
      prefix: FILES_KEY_PREFIX,
    });
    acknowledgeNotificationsHandler(this);

    this.vectorBucket = new CfnVectorBucket(this, 'VectorBucket', {
      encryptionConfiguration: { sseType: 'AES256' },
    });
    this.vectorIndex = new CfnIndex(this, 'VectorIndex', {
      vectorBucketArn: this.vectorBucket.attrVectorBucketArn,
      dataType: 'float32',
      dimension: dimensions,
      distanceMetric: 'cosine',
      // `owner` and `file_id` stay filterable (every query filters on them); the chunk index is only returned.
      metadataConfiguration: { nonFilterableMetadataKeys: ['chunk'] },
    });

    this.settings = {
      [EnvName.filesBucketName]: this.bucket.bucketName,
      [EnvName.filesMaxBytes]: String(maxFileBytes),
      [EnvName.filesQuotaBytesPerUser]: String(quotaBytesPerUser),
      ...(props.embeddingModelId === undefined
        ? {}
        : {
            [EnvName.embeddingsProvider]: 'bedrock',
            [EnvName.embeddingsModel]: props.embeddingModelId,
            [EnvName.vectorIndexArn]: this.vectorIndex.attrIndexArn,
          }),
    };

    this.deadLetterAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: 'A file could not be ingested after repeated attempts (see the files-ingest logs).',
      metric: this.metricDeadLetterMessages(),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.ingestBacklogAlarm = new Alarm(this, 'IngestBacklogAlarm', {
      alarmDescription: 'Uploads wait more than 15 minutes to be ingested.',
      metric: this.metricOldestMessageAge(),
      threshold: 900,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarms = { IngestDeadLetters: this.deadLetterAlarm, IngestBacklog: this.ingestBacklogAlarm };
  }

  /** The files API: put, read and delete objects, presign, delete vectors; sets the files variables. */
  public grantApi(fn: AppFunction): void {
    this.grantObjects(
      fn,
      ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
      ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
    );
    this.grantVectors(fn, ['s3vectors:DeleteVectors']);
    this.setSettings(fn);
  }

  /**
   * What export and erasure of a user's data (`/v1/me`) need: download links (GetObject, for presigning) and the
   * deletion of objects and vectors; no uploads.
   */
  public grantUserData(fn: AppFunction): void {
    this.grantObjects(fn, ['s3:GetObject', 's3:DeleteObject'], ['kms:Decrypt']);
    this.grantVectors(fn, ['s3vectors:DeleteVectors']);
    this.setSettings(fn);
  }

  /** Retrieval in the chat function: query vectors and embed the query (when embeddings are configured). */
  public grantRetrieval(fn: AppFunction): void {
    this.grantVectors(fn, ['s3vectors:QueryVectors', 's3vectors:GetVectors']);
    this.grantEmbeddings(fn);
    this.setSettings(fn);
  }

  /** Runs the ingest function on the queue (one file per invocation, partial failures reported). */
  public addIngestFunction(fn: AppFunction): void {
    const timeout = fn.lambda.timeout?.toSeconds() ?? 3;
    if (timeout * 6 > SOURCE.visibilityTimeoutSeconds) {
      throw new Error(`Ingest timeout ${timeout} s needs a visibility timeout of at least ${timeout * 6} s`);
    }
    fn.lambda.addEventSource(
      new SqsEventSource(this.queue, { batchSize: SOURCE.batchSize, reportBatchItemFailures: true }),
    );
    this.grantObjects(fn, ['s3:GetObject', 's3:DeleteObject'], ['kms:Decrypt']);
    this.grantVectors(fn, ['s3vectors:PutVectors', 's3vectors:DeleteVectors']);
    this.grantEmbeddings(fn);
    this.setSettings(fn);
  }

  /** Settles the files of dead-lettered events as `error`. */
  public addDeadLetterHandler(fn: AppFunction): void {
    fn.lambda.addEventSource(
      new SqsEventSource(this.deadLetterQueue, { batchSize: 10, reportBatchItemFailures: true }),
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
          'Objects are keyed per user and file (files/<owner>/<file id>); the handlers scope every key to the caller.',
      },
      actions,
      keyActions,
    );
  }

  private grantVectors(fn: AppFunction, actions: readonly string[]): void {
    if (this.embeddingModelId === undefined) return;
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...actions], resources: [this.vectorIndex.attrIndexArn] }),
    );
  }

  private grantEmbeddings(fn: AppFunction): void {
    if (this.embeddingModelId === undefined) return;
    const region = Stack.of(this).region;
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['bedrock:InvokeModel'],
        resources: [`arn:${Aws.PARTITION}:bedrock:${region}::foundation-model/${this.embeddingModelId}`],
      }),
    );
  }

  private setSettings(fn: AppFunction): void {
    for (const [name, value] of Object.entries(this.settings)) fn.setEnvironment(name as EnvName, value);
  }
}

/** The CDK's bucket-notifications custom resource (one per stack) runs with the basic execution policy. */
function acknowledgeNotificationsHandler(scope: Construct): void {
  const stack = Stack.of(scope);
  const handler = stack.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
  const role = handler?.node.tryFindChild('Role');
  if (role === undefined) return;
  acknowledgeManagedPolicy(
    role,
    'service-role/AWSLambdaBasicExecutionRole',
    'The CDK’s bucket-notifications handler writes only its own logs with the basic execution policy.',
  );
}
