import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { beforeAll, describe, expect, it } from 'vitest';
import { Alerts, type AlertsProps } from '../../../lib/constructs/alerts';
import { testApp } from './fixtures/synth';

// Synthesis is CPU-bound and slow on a busy machine. testApp() skips bundling the forwarder (these tests read the
// template only; the AppFunction test covers bundling).
const SYNTH_TIMEOUT_MS = 180_000;

function build(props: AlertsProps) {
  const stack = new Stack(testApp(), 'Ops', { env: { account: '123456789012', region: 'eu-west-1' } });
  const alerts = new Alerts(stack, 'Alerts', props);
  return { stack, alerts, template: Template.fromStack(stack) };
}

describe('Alerts with email and Chatbot', () => {
  let built: ReturnType<typeof build>;
  beforeAll(() => {
    built = build({
      emailAddresses: ['ops@example.com', 'oncall@example.com'],
      slackWorkspaceId: 'T0123ABCD',
      slackChannelId: 'C0123ABCD',
    });
  }, SYNTH_TIMEOUT_MS);

  it('encrypts the topic with a customer-managed key that rotates', () => {
    built.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    built.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertsTopicKey'), 'Arn'] },
    });
  });

  it('lets CloudWatch alarms use the key and publish to the topic, only over TLS', () => {
    built.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    built.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '123456789012' } }),
          }),
        ]),
      },
    });
  });

  it('subscribes every email address', () => {
    for (const address of ['ops@example.com', 'oncall@example.com']) {
      built.template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: address,
      });
    }
  });

  it('sends the topic to the Slack channel through Chatbot, with read-only guardrails', () => {
    built.template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: 'T0123ABCD',
      SlackChannelId: 'C0123ABCD',
      SnsTopicArns: [{ Ref: Match.stringLikeRegexp('^AlertsTopic') }],
      GuardrailPolicies: [
        Match.objectLike({
          'Fn::Join': Match.arrayWith([Match.arrayWith([':iam::aws:policy/CloudWatchReadOnlyAccess'])]),
        }),
      ],
    });
  });

  it('deploys no webhook forwarder', () => {
    built.template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  it(
    'notifies the topic when an alarm fires and when it recovers',
    () => {
      const stack = new Stack(testApp(), 'Alarms');
      const alerts = new Alerts(stack, 'Alerts');
      const alarm = new Alarm(stack, 'Alarm', {
        metric: new Metric({ namespace: 'Chatstack', metricName: 'Errors', period: Duration.minutes(1) }),
        threshold: 1,
        evaluationPeriods: 1,
      });

      alerts.addAlarmAction(alarm);

      const topicRef = stack.resolve(alerts.topic.topicArn);
      Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmActions: [topicRef],
        OKActions: [topicRef],
      });
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('Alerts with a Slack webhook secret', () => {
  let built: ReturnType<typeof build>;
  beforeAll(() => {
    built = build({ slackWebhookSecretName: 'chatstack/slack-webhook' });
  }, SYNTH_TIMEOUT_MS);

  it('deploys the forwarder on arm64 Node.js 22 with the secret name in its environment', () => {
    built.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ SLACK_WEBHOOK_SECRET_NAME: 'chatstack/slack-webhook' }) },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('SlackForwarderLogs') } },
    });
    built.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('lets the forwarder read only that secret', () => {
    built.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            // Sorted by cdk.json's @aws-cdk/aws-iam:minimizePolicies, as deployed.
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            // The secret's name plus the six random characters Secrets Manager appends.
            Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatstack/slack-webhook-??????',
          }),
        ]),
      },
    });
  });

  it('subscribes the forwarder to the topic', () => {
    built.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: Match.stringLikeRegexp('^AlertsTopic') },
    });
  });

  it('creates no Chatbot channel', () => {
    built.template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
  });

  it('keeps a notification the forwarder gave up on in its failure queue, and alarms on it', () => {
    built.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^AlertsSlackForwarderFunction') },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertsSlackForwarderFailures'), 'Arn'] },
        },
      },
    });
    built.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'NumberOfMessagesSent',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertsSlackForwarderFailures'), 'QueueName'] },
        },
      ],
      Threshold: 0,
    });
    expect(Object.keys(built.alerts.alarms)).toEqual(['SlackForwarderFailures']);
  });
});

describe('Alerts validation', () => {
  it('refuses a workspace id without a channel id', () => {
    expect(() => build({ slackWorkspaceId: 'T0123ABCD' })).toThrow(/go together.*T0123ABCD/);
  });

  it('refuses an address that is not an email, naming it', () => {
    expect(() => build({ emailAddresses: ['ops-at-example.com'] })).toThrow(
      /"ops-at-example.com" is not an email/,
    );
  });

  it(
    'warns that the webhook is unused when Chatbot ids are given too',
    () => {
      const { stack } = build({
        slackWorkspaceId: 'T0123ABCD',
        slackChannelId: 'C0123ABCD',
        slackWebhookSecretName: 'x',
      });
      Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('webhook is unused'));
    },
    SYNTH_TIMEOUT_MS,
  );
});
