import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { USER_DATA_SOURCE } from '../../../lambdas/contracts/user-data-tasks';
import { AppFunction } from '../../../lib/constructs/app-function';
import { UserDataJobs, type UserDataJobsProps } from '../../../lib/constructs/user-data-jobs';
import { actionsOf, statementsOf } from './fixtures/policies';
import { testApp } from './fixtures/synth';

const env = { account: '123456789012', region: 'eu-west-1' };

function build(props: UserDataJobsProps = {}) {
  const stack = new Stack(testApp(), 'Test', { env });
  const jobs = new UserDataJobs(stack, 'UserData', props);
  const fn = (name: 'me' | 'user-data-worker', timeout: number) =>
    new AppFunction(stack, name, {
      functionName: name,
      description: name,
      logRetention: RetentionDays.ONE_WEEK,
      timeout: Duration.seconds(timeout),
    });
  const me = fn('me', 29);
  const worker = fn('user-data-worker', USER_DATA_SOURCE.workerTimeoutSeconds);
  jobs.grantRequests(me);
  jobs.addWorker(worker);
  return { stack, jobs, template: Template.fromStack(stack) };
}

describe('UserDataJobs', () => {
  it('keeps exports in a private bucket under its own KMS key, expiring them after a day', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'exports/', ExpirationInDays: 1, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('refuses requests to the bucket without TLS 1.2', () => {
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

  it('runs the worker on the queue one task at a time, with a dead-letter queue after three receives', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: USER_DATA_SOURCE.visibilityTimeoutSeconds,
      RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() },
    });
  });

  it('lets the /v1/me function queue tasks and sign downloads, but never write an export', () => {
    const { template } = build();
    const actions = actionsOf(statementsOf(template, 'me'));
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:DeleteObject', 'kms:Decrypt']));
    expect(actions).not.toContain('s3:ListBucket');
    expect(actions).toContain('sqs:SendMessage');
    expect(actions).not.toContain('s3:PutObject');
    expect(actions).not.toContain('kms:GenerateDataKey');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'me',
          USER_DATA_QUEUE_URL: Match.anyValue(),
          EXPORTS_BUCKET_NAME: Match.anyValue(),
        }),
      },
    });
  });

  it('lets the worker write exports under exports/ only, encrypted with the exports key', () => {
    const { template } = build();
    const statements = statementsOf(template, 'user-data-worker');
    const put = statements.find((statement) => [statement.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(put?.Resource)).toContain('/exports/*');
    expect(actionsOf(statements)).toEqual(expect.arrayContaining(['kms:GenerateDataKey', 'kms:Encrypt']));
    expect(actionsOf(statements)).not.toContain('s3:ListBucket');
  });

  it('alarms on dead letters and on a stuck backlog', () => {
    const { jobs } = build();
    expect(Object.keys(jobs.alarms).sort()).toEqual(['Backlog', 'DeadLetters']);
  });

  it('refuses a worker whose timeout the visibility timeout cannot cover', () => {
    const stack = new Stack(testApp(), 'Bad', { env });
    const jobs = new UserDataJobs(stack, 'UserData');
    const slow = new AppFunction(stack, 'slow', {
      functionName: 'user-data-worker',
      description: 'slow',
      logRetention: RetentionDays.ONE_WEEK,
      timeout: Duration.seconds(USER_DATA_SOURCE.visibilityTimeoutSeconds),
    });
    expect(() => jobs.addWorker(slow)).toThrow(/visibility timeout/);
  });
});
