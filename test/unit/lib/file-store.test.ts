import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { FILES_INGEST_SOURCE } from '../../../lambdas/contracts/files';
import { AppFunction } from '../../../lib/constructs/app-function';
import { FileStore, type FileStoreProps } from '../../../lib/constructs/file-store';
import { actionsOf, statementsOf } from './fixtures/policies';
import { testApp } from './fixtures/synth';

const env = { account: '123456789012', region: 'eu-west-1' };

function build(props: FileStoreProps = {}) {
  const stack = new Stack(testApp(), 'Test', { env });
  const files = new FileStore(stack, 'Files', props);
  const fn = (name: 'files' | 'files-ingest' | 'files-ingest-dlq' | 'chat', timeout = 29) =>
    new AppFunction(stack, name, {
      functionName: name,
      description: name,
      logRetention: RetentionDays.ONE_WEEK,
      timeout: Duration.seconds(timeout),
    });
  const api = fn('files');
  const ingest = fn('files-ingest', FILES_INGEST_SOURCE.workerTimeoutSeconds);
  const deadLetters = fn('files-ingest-dlq');
  files.grantApi(api);
  files.addIngestFunction(ingest);
  files.addDeadLetterHandler(deadLetters);
  return { stack, files, template: Template.fromStack(stack) };
}

describe('FileStore', () => {
  it('keeps files in a private, KMS-encrypted, retained bucket', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            BucketKeyEnabled: true,
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('refuses any request without TLS 1.2', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('sends ObjectCreated events under files/ to the ingest queue, which dead-letters after three receives', () => {
    const { template } = build();
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [
          Match.objectLike({
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'files/' }] } },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: FILES_INGEST_SOURCE.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
    });
  });

  it('runs the ingest function on the queue one file at a time, and the dead-letter handler on the DLQ', () => {
    const { template } = build();
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventSourceMapping',
      { BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'] },
      1,
    );
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventSourceMapping',
      { BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] },
      1,
    );
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(2);
  });

  it('creates an S3 Vectors bucket and a cosine index filtered by owner and file', () => {
    const { template } = build({ vectorDimensions: 256 });
    template.resourceCountIs('AWS::S3Vectors::VectorBucket', 1);
    template.hasResourceProperties('AWS::S3Vectors::Index', {
      DataType: 'float32',
      Dimension: 256,
      DistanceMetric: 'cosine',
      MetadataConfiguration: { NonFilterableMetadataKeys: ['chunk'] },
    });
  });

  it('grants each function only what it does, on the files prefix and the key', () => {
    const { template } = build();
    expect(actionsOf(statementsOf(template, 'files'))).toEqual(
      expect.arrayContaining([
        's3:DeleteObject',
        's3:GetObject',
        's3:PutObject',
        'kms:Decrypt',
        'kms:Encrypt',
      ]),
    );
    const ingest = actionsOf(statementsOf(template, 'files-ingest'));
    expect(ingest).toContain('s3:GetObject');
    expect(ingest).not.toContain('s3:PutObject');
    expect(ingest).not.toContain('kms:Encrypt');
    for (const statement of statementsOf(template, 'files')) {
      // X-Ray's actions support no resource-level permissions (AppFunction); everything else is scoped.
      if (JSON.stringify(statement.Action).includes('xray:')) continue;
      expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
      if (JSON.stringify(statement.Action).includes('s3:'))
        expect(JSON.stringify(statement.Resource)).toContain('/files/*');
    }
    // Without an embedding model no function may touch vectors or Bedrock.
    expect(ingest.some((action) => action.startsWith('s3vectors:') || action.startsWith('bedrock:'))).toBe(
      false,
    );
  });

  it('grants vector and Bedrock access when an embedding model is configured, and names them in the environment', () => {
    const { template } = build({ embeddingModelId: 'amazon.titan-embed-text-v2:0' });
    const ingest = statementsOf(template, 'files-ingest');
    expect(actionsOf(ingest)).toEqual(
      expect.arrayContaining(['s3vectors:PutVectors', 'bedrock:InvokeModel']),
    );
    expect(JSON.stringify(ingest)).toContain('foundation-model/amazon.titan-embed-text-v2:0');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'files-ingest',
          EMBEDDINGS_PROVIDER: 'bedrock',
          VECTOR_INDEX_ARN: Match.anyValue(),
          FILES_BUCKET_NAME: Match.anyValue(),
        }),
      },
    });
  });

  it('refuses a quota smaller than the largest file', () => {
    expect(() => build({ maxFileBytes: 100 * 1024 * 1024, quotaBytesPerUser: 10 * 1024 * 1024 })).toThrow(
      /quotaBytesPerUser/,
    );
  });
});
