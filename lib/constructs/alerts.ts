import { Annotations, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { LoggingLevel, SlackChannelConfiguration } from 'aws-cdk-lib/aws-chatbot';
import {
  type Alarm,
  type AlarmBase,
  type Metric,
  type MetricOptions,
  Stats,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Effect, ManagedPolicy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { AppFunction } from './app-function';
import { alarm, type Watched } from './monitoring/alarm';
import { ONE_MINUTE } from './monitoring/metrics';

export interface AlertsProps {
  /**
   * Addresses subscribed to every alarm and recovery by email (each must confirm the subscription once).
   * @default - no email subscriptions
   */
  readonly emailAddresses?: readonly string[];
  /**
   * Slack workspace (team) id authorized in AWS Chatbot (Amazon Q Developer in chat applications), e.g. `T0123ABCD`.
   * Given together with `slackChannelId`, alerts go to Slack through Chatbot.
   * @default - no Chatbot channel
   */
  readonly slackWorkspaceId?: string;
  /**
   * Slack channel id for the Chatbot channel configuration, e.g. `C0123ABCD`.
   * @default - no Chatbot channel
   */
  readonly slackChannelId?: string;
  /**
   * Name of a Secrets Manager secret holding a Slack incoming-webhook URL (the URL itself, or JSON
   * `{"webhookUrl": "…"}`). Used only when no Chatbot ids are given: a small Lambda formats each alarm as a
   * Block Kit message and posts it.
   * @default - no webhook forwarder
   */
  readonly slackWebhookSecretName?: string;
  /**
   * Log retention of the webhook forwarder.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SLACK_ID = /^[A-Z0-9]{8,}$/;

/**
 * Where alarms go: one KMS-encrypted SNS topic with email subscriptions and Slack, either through AWS Chatbot
 * or through a webhook-forwarding Lambda. Alarms are wired with `addAlarmAction`, which notifies on ALARM and OK.
 */
export class Alerts extends Construct implements Watched {
  /** The alerts topic; alarms publish to it. */
  public readonly topic: ITopic;
  /** The customer-managed key encrypting the topic. */
  public readonly key: IKey;
  /** The Chatbot Slack channel, when workspace and channel ids were given. */
  public readonly slackChannel: SlackChannelConfiguration | undefined;
  /** The webhook forwarder, when only a webhook secret was given. */
  public readonly slackForwarder: AppFunction | undefined;
  /** Notifications the forwarder gave up on (its failure destination). */
  public readonly slackForwarderFailures: Queue | undefined;
  private readonly ownAlarms: Record<string, Alarm> = {};

  constructor(scope: Construct, id: string, props: AlertsProps = {}) {
    super(scope, id);
    validate(props);
    const { account, region, partition } = Stack.of(this);

    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the chatstack alerts topic',
      enableKeyRotation: true,
      // The key protects transient notifications only, never stored data.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch publishes alarm notifications to the encrypted topic as itself: it needs the data key.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.key = key;

    const topic = new Topic(this, 'Topic', {
      displayName: 'chatstack alerts',
      masterKey: key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
          StringEquals: { 'aws:SourceAccount': account },
        },
      }),
    );
    this.topic = topic;

    for (const address of props.emailAddresses ?? []) {
      topic.addSubscription(new EmailSubscription(address));
    }

    if (props.slackWorkspaceId !== undefined && props.slackChannelId !== undefined) {
      this.slackChannel = new SlackChannelConfiguration(this, 'SlackChannel', {
        // Chatbot requires a name; derived from the construct path so copies of the stack never collide.
        slackChannelConfigurationName: Names.uniqueResourceName(this, { maxLength: 128, separator: '-' }),
        slackWorkspaceId: props.slackWorkspaceId,
        slackChannelId: props.slackChannelId,
        notificationTopics: [topic],
        loggingLevel: LoggingLevel.ERROR,
        // Channel members may look at alarms and metrics from Slack, nothing more.
        guardrailPolicies: [ManagedPolicy.fromAwsManagedPolicyName('CloudWatchReadOnlyAccess')],
      });
      if (props.slackWebhookSecretName !== undefined) {
        Annotations.of(this).addWarningV2(
          'chatstack:alerts-slack-both',
          'Both Chatbot ids and a Slack webhook secret are set: alerts go through Chatbot and the webhook is unused.',
        );
      }
    } else if (props.slackWebhookSecretName !== undefined) {
      const forwarder = new AppFunction(this, 'SlackForwarder', {
        functionName: 'alerts-slack',
        description: 'Formats CloudWatch alarm notifications and posts them to a Slack incoming webhook',
        logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
        timeout: Duration.seconds(30),
        memorySize: 256,
        environment: { [EnvName.slackWebhookSecretName]: props.slackWebhookSecretName },
      });
      Secret.fromSecretNameV2(this, 'SlackWebhookSecret', props.slackWebhookSecretName).grantRead(forwarder);
      // SNS invokes the forwarder asynchronously: after Lambda's retries a notification lands here, not nowhere.
      const failures = new Queue(this, 'SlackForwarderFailures', {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(failures).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the failure destination of the Slack forwarder.',
      });
      forwarder.lambda.configureAsyncInvoke({ onFailure: new SqsDestination(failures), retryAttempts: 2 });
      topic.addSubscription(new LambdaSubscription(forwarder.lambda));
      this.slackForwarder = forwarder;
      this.slackForwarderFailures = failures;
      this.ownAlarms.SlackForwarderFailures = alarm(this, 'SlackForwarderFailuresAlarm', {
        metric: this.metricSlackForwarderFailures(),
        threshold: 0,
        description: 'Alarm notifications could not be posted to Slack (they are kept in the failure queue).',
      });
    }
  }

  /** The forwarder's failure alarm, when there is a forwarder. */
  public get alarms(): Readonly<Record<string, Alarm>> {
    return this.ownAlarms;
  }

  /** Notifications sent to the forwarder's failure destination (sum per minute); none without a forwarder. */
  public metricSlackForwarderFailures(options?: MetricOptions): Metric {
    if (!this.slackForwarderFailures) throw new Error('Alerts: there is no Slack forwarder');
    return this.slackForwarderFailures.metricNumberOfMessagesSent({
      statistic: Stats.SUM,
      period: ONE_MINUTE,
      ...options,
    });
  }

  /** Notifies the topic when each alarm goes into ALARM and when it returns to OK. */
  public addAlarmAction(...alarms: AlarmBase[]): void {
    const action = new SnsAction(this.topic);
    for (const alarm of alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}

function validate(props: AlertsProps): void {
  for (const address of props.emailAddresses ?? []) {
    if (!EMAIL.test(address)) throw new Error(`Alerts: "${address}" is not an email address`);
  }
  const { slackWorkspaceId, slackChannelId, slackWebhookSecretName } = props;
  if ((slackWorkspaceId === undefined) !== (slackChannelId === undefined)) {
    throw new Error(
      `Alerts: slackWorkspaceId and slackChannelId go together (got workspace ${slackWorkspaceId ?? 'none'}, channel ${slackChannelId ?? 'none'})`,
    );
  }
  for (const [name, value] of [
    ['slackWorkspaceId', slackWorkspaceId],
    ['slackChannelId', slackChannelId],
  ] as const) {
    if (value !== undefined && !SLACK_ID.test(value)) {
      throw new Error(
        `Alerts: ${name} "${value}" is not a Slack id (upper-case letters and digits, e.g. T0123ABCD)`,
      );
    }
  }
  if (slackWebhookSecretName !== undefined && slackWebhookSecretName.trim().length === 0) {
    throw new Error('Alerts: slackWebhookSecretName is empty');
  }
}
