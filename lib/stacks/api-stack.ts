import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { LambdaApplication } from 'aws-cdk-lib/aws-codedeploy';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { LOCAL_WEB_ORIGINS } from '../../lambdas/contracts/cors';
import { FunctionName, type Scope } from '../../lambdas/contracts/routes';
import { applicationEnvironment } from '../app-settings';
import type { StageConfig } from '../config';
import { AppFunction, releaseConfig, TracingPolicy } from '../constructs/app-function';
import { ChatApi } from '../constructs/chat-api';
import { RegionalTable } from '../constructs/data-table';
import type { EventStream } from '../constructs/event-stream';
import type { InferenceEndpoint } from '../constructs/inference-endpoint';
import type { JobQueue } from '../constructs/job-queue';
import { grantModeration } from '../constructs/moderation-access';
import { resolveThresholds } from '../constructs/monitoring/thresholds';
import { pascal } from './async-stack';

export interface ApiStackProps extends StackProps {
  readonly config: StageConfig;
  readonly tableName: string;
  readonly tableKey: IKey;
  readonly endpoint: InferenceEndpoint;
  /** Other regions' endpoints, in the order the chat function falls over to them. @default none */
  readonly fallbackEndpoints?: readonly InferenceEndpoint[];
  readonly jobQueue: JobQueue;
  readonly eventStream: EventStream;
  readonly userPool: IUserPool;
  readonly cognitoScope: (scope: Scope) => string;
  /** The web app's origin (CloudFront). */
  readonly webOrigin: string;
}

/** Stateless: this region's REST API and the functions behind it. */
export class ApiStack extends Stack {
  public readonly chatApi: ChatApi;
  public readonly functions: Readonly<Record<FunctionName, AppFunction>>;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    const thresholds = resolveThresholds(config.alarms.thresholds);
    const table = new RegionalTable(this, 'Table', {
      tableName: props.tableName,
      encryptionKey: props.tableKey,
    });
    const logRetention = config.retention.logDays as RetentionDays;
    // One X-Ray write policy for every function of the stack.
    const tracing = new TracingPolicy(this, 'Tracing');
    const chatTimeout = Duration.seconds(config.api.chatTimeoutSeconds);
    // Every API function is released through its `live` alias, gradually, watched by its alarms.
    const release = releaseConfig(this, 'ReleaseConfig', config.release.functions);
    const releaseApplication = new LambdaApplication(this, 'Releases');
    const fn = (name: FunctionName, description: string, timeout = Duration.seconds(29), memorySize = 512) =>
      new AppFunction(this, pascal(name), {
        functionName: name,
        description,
        logRetention,
        timeout,
        memorySize,
        environment: applicationEnvironment(config),
        reservedConcurrentExecutions: config.reservedConcurrency[name],
        tracingPolicy: tracing,
        provisionedConcurrency: name === FunctionName.chat ? config.chatProvisionedConcurrency : 0,
        releaseConfig: release,
        releaseApplication,
      });

    const functions: Record<FunctionName, AppFunction> = {
      chat: fn(FunctionName.chat, 'Streams chat completions from the model', chatTimeout, 1024),
      models: fn(FunctionName.models, 'Lists the served model'),
      conversations: fn(FunctionName.conversations, 'Lists, reads, renames and deletes conversations'),
      me: fn(FunctionName.me, 'Exports, reports usage of and erases a user’s data'),
      jobs: fn(FunctionName.jobs, 'Queues and reports long-running completion jobs'),
      'client-errors': fn(FunctionName.clientErrors, 'Records errors reported by the web app'),
    };
    // Each function gets the table access its code uses, and no more.
    for (const name of [FunctionName.chat, FunctionName.conversations, FunctionName.me]) {
      table.grantReadWriteData(functions[name]);
    }
    // Jobs are put and updated (cancel, slot counters), never deleted here.
    table.grantReadAndWriteItems(functions.jobs, ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // The per-user report counter (lambdas/client-errors/rate-limit.ts) is the only thing it writes.
    table.grantCounterUpdates(functions[FunctionName.clientErrors], ['count', 'expiresAt']);
    props.endpoint.grantInvoke(functions.chat, props.fallbackEndpoints);
    props.eventStream.grantWrite(functions.chat);
    props.eventStream.grantWrite(functions.me);
    props.jobQueue.grantSendMessages(functions.jobs);
    grantModeration(functions.chat, config.moderation);
    this.functions = functions;

    for (const each of Object.values(functions)) each.addAlarms(thresholds);

    const customDomain = config.customDomain
      ? {
          domainName: config.customDomain.domainName,
          hostedZone: HostedZone.fromHostedZoneAttributes(this, 'Zone', {
            hostedZoneId: config.customDomain.hostedZoneId,
            zoneName: config.customDomain.hostedZoneName,
          }),
        }
      : undefined;

    this.chatApi = new ChatApi(this, 'ChatApi', {
      functions,
      userPool: props.userPool,
      cognitoScope: props.cognitoScope,
      allowedOrigins: config.stage === 'prod' ? [props.webOrigin] : [props.webOrigin, ...LOCAL_WEB_ORIGINS],
      stageName: config.stage,
      logRetention,
      throttleRatePerSecond: config.api.throttleRatePerSecond,
      throttleBurst: config.api.throttleBurst,
      alarmThresholds: thresholds,
      wafRequestsPer5MinutesPerIp: config.api.wafRequestsPer5MinutesPerIp,
      maxCompletionTokens: config.quotas.maxCompletionTokens,
      streamTimeout: chatTimeout,
      customDomain,
    });
    for (const [name, each] of Object.entries(functions) as [FunctionName, AppFunction][]) {
      each.watchRelease(...this.chatApi.releaseAlarms(name));
    }
    new CfnOutput(this, 'ApiBaseUrl', {
      value: this.chatApi.baseUrl,
      description: 'OpenAI base URL of this region (clients append /chat/completions)',
    });
    new CfnOutput(this, 'RegionalApiUrl', { value: `${this.chatApi.api.url}v1` });
  }
}
