import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { LambdaApplication } from 'aws-cdk-lib/aws-codedeploy';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { LOCAL_WEB_ORIGINS } from '../../lambdas/contracts/cors';
import { EnvName } from '../../lambdas/contracts/env';
import { FILES_INGEST_SOURCE } from '../../lambdas/contracts/files';
import { FunctionName } from '../../lambdas/contracts/routes';
import { USER_DATA_SOURCE } from '../../lambdas/contracts/user-data-tasks';
import { applicationEnvironment } from '../app-settings';
import type { AppFunctionName, StageConfig } from '../config';
import { AppFunction, releaseConfig, TracingPolicy } from '../constructs/app-function';
import { ChatApi } from '../constructs/chat-api';
import { RegionalTable } from '../constructs/data-table';
import type { EventStream } from '../constructs/event-stream';
import { FileStore } from '../constructs/file-store';
import type { Identity } from '../constructs/identity';
import type { JobQueue } from '../constructs/job-queue';
import { grantModeration } from '../constructs/moderation-access';
import { resolveThresholds } from '../constructs/monitoring/thresholds';
import { grantModelsInvoke, type ServedModelEndpoints, setModelCatalog } from '../constructs/served-models';
import { UserDataJobs } from '../constructs/user-data-jobs';
import { pascal } from './async-stack';

export interface ApiStackProps extends StackProps {
  readonly config: StageConfig;
  readonly tableName: string;
  readonly tableKey: IKey;
  /**
   * The served models, the default first: each model's endpoint in this region and, in the order the client falls
   * over to them, the same model's endpoints in the other regions.
   */
  readonly models: readonly [ServedModelEndpoints, ...ServedModelEndpoints[]];
  readonly jobQueue: JobQueue;
  readonly eventStream: EventStream;
  /** The Cognito issuer (`https://cognito-idp.<region>.amazonaws.com/<pool id>`) whose access tokens the API accepts. */
  readonly tokenIssuer: string;
  /** App clients whose access tokens the API accepts. */
  readonly tokenClientIds: readonly string[];
  /** What Cognito puts before each API scope: `<resource server id>/`. */
  readonly tokenScopePrefix: string;
  /** The web app's origin (CloudFront). */
  readonly webOrigin: string;
  /** The user directory the admin API administers. */
  readonly identity: Identity;
}

/** Stateless: this region's REST API and the functions behind it. */
export class ApiStack extends Stack {
  public readonly chatApi: ChatApi;
  public readonly functions: Readonly<Record<FunctionName, AppFunction>>;
  public readonly authorizer: AppFunction;
  /** Users' files; beside the API so the functions that serve and search them share its stack. */
  public readonly fileStore: FileStore;
  public readonly fileFunctions: Readonly<Record<'files-ingest' | 'files-ingest-dlq', AppFunction>>;
  /** Exports and second erasure sweeps: their queue, the exports bucket and the worker that runs them. */
  public readonly userDataJobs: UserDataJobs;
  public readonly userDataWorker: AppFunction;

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
    // The functions API Gateway invokes are released through their `live` alias, gradually, watched by their
    // alarms; queue consumers (file ingest) rely on retries and their dead-letter queue instead.
    const release = releaseConfig(this, 'ReleaseConfig', config.release.functions);
    const releaseApplication = new LambdaApplication(this, 'Releases');
    const released = new Set<AppFunctionName>([...Object.values(FunctionName), 'authorizer']);
    const fn = (
      name: AppFunctionName,
      description: string,
      timeout = Duration.seconds(29),
      memorySize = 512,
    ) =>
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
        ...(released.has(name) ? { releaseConfig: release, releaseApplication } : {}),
      });

    const functions: Record<FunctionName, AppFunction> = {
      chat: fn(FunctionName.chat, 'Streams chat completions from the model', chatTimeout, 1024),
      models: fn(FunctionName.models, 'Lists the served model'),
      conversations: fn(
        FunctionName.conversations,
        'Lists, reads, renames, deletes, rates and shares conversations',
      ),
      me: fn(FunctionName.me, 'Exports, reports usage of and erases a user’s data'),
      jobs: fn(FunctionName.jobs, 'Queues and reports long-running completion jobs'),
      'client-errors': fn(FunctionName.clientErrors, 'Records errors reported by the web app'),
      'api-keys': fn(FunctionName.apiKeys, 'Creates, lists and revokes personal API keys'),
      files: fn(FunctionName.files, 'Uploads, lists, serves and deletes a user’s files'),
      admin: fn(FunctionName.admin, 'Administers users, usage, costs and the audit log'),
    };
    // Each function gets the table access its code uses, and no more.
    for (const name of [
      FunctionName.chat,
      FunctionName.conversations,
      FunctionName.me,
      FunctionName.apiKeys,
      FunctionName.files,
    ]) {
      table.grantReadWriteData(functions[name]);
    }
    // Jobs are put and updated (cancel, slot counters), never deleted here.
    table.grantReadAndWriteItems(functions.jobs, ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // The model list touches the table only for its callers' route limit counters. Client error reports touch
    // nothing in the table (their per-user window is in memory, see lambdas/client-errors/handler.ts).
    table.grantRouteLimits(functions.models);
    grantModelsInvoke(functions.chat, props.models);
    // The model list and job submissions name the served models; they call none.
    setModelCatalog(functions.models, props.models);
    setModelCatalog(functions.jobs, props.models);
    props.eventStream.grantWrite(functions.chat);
    props.eventStream.grantWrite(functions.me);
    // Feedback on answers is an analytics event.
    props.eventStream.grantWrite(functions.conversations);
    props.jobQueue.grantSendMessages(functions.jobs);
    // A conversation's first answer asks the jobs worker for a title (lambdas/titles).
    props.jobQueue.grantSendMessages(functions.chat);
    table.grantAdminAccess(functions.admin);
    // Its own callers' route limits (the shared API middleware counts every request).
    table.grantRouteLimits(functions.admin);
    props.identity.grantUserAdministration(functions.admin);
    if (Object.keys(config.prices).length > 0) {
      functions.admin.setEnvironment(EnvName.modelPrices, JSON.stringify(config.prices));
    }
    this.fileStore = new FileStore(this, 'FileStore', {
      allowedOrigins: allowedOrigins(config, props.webOrigin),
    });
    this.fileStore.grantApi(functions.files);
    // Answers grounded in the user's files (`file_ids`): chunks come from the table, vectors and embeddings here.
    this.fileStore.grantRetrieval(functions.chat);
    this.fileStore.grantUserData(functions.me);
    const ingest = fn(
      'files-ingest',
      'Extracts, chunks and indexes uploaded files',
      Duration.seconds(FILES_INGEST_SOURCE.workerTimeoutSeconds),
      1024,
    );
    const ingestDeadLetters = fn('files-ingest-dlq', 'Marks files that kept failing ingestion as error');
    for (const each of [ingest, ingestDeadLetters]) table.grantReadWriteData(each);
    this.fileStore.addIngestFunction(ingest);
    this.fileStore.addDeadLetterHandler(ingestDeadLetters);
    this.fileFunctions = { 'files-ingest': ingest, 'files-ingest-dlq': ingestDeadLetters };
    grantModeration(functions.chat, config.moderation);
    this.functions = functions;

    this.userDataJobs = new UserDataJobs(this, 'UserDataJobs', {
      allowedOrigins: allowedOrigins(config, props.webOrigin),
    });
    const userDataWorker = fn(
      'user-data-worker',
      'Writes users’ data exports and runs the second sweep after an erasure',
      Duration.seconds(USER_DATA_SOURCE.workerTimeoutSeconds),
      1024,
    );
    table.grantReadWriteData(userDataWorker);
    this.fileStore.grantUserData(userDataWorker);
    this.userDataJobs.addWorker(userDataWorker);
    this.userDataJobs.grantRequests(functions.me);
    this.userDataWorker = userDataWorker;

    const authorizer = fn(
      'authorizer',
      'Verifies access tokens and API keys for every API method',
      Duration.seconds(10),
    );
    authorizer
      .setEnvironment(EnvName.authIssuer, props.tokenIssuer)
      .setEnvironment(EnvName.authClientIds, props.tokenClientIds.join(','))
      .setEnvironment(EnvName.authScopePrefix, props.tokenScopePrefix);
    table.grantApiKeyLookup(authorizer);
    table.grantSuspensionLookup(authorizer);
    props.eventStream.grantWrite(authorizer);
    this.authorizer = authorizer;

    for (const each of [...Object.values(functions), authorizer, ingest, ingestDeadLetters, userDataWorker])
      each.addAlarms(thresholds);

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
      authorizer,
      allowedOrigins: allowedOrigins(config, props.webOrigin),
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

/** Origins the browser may call from: the web app, and the local dev server outside prod. */
function allowedOrigins(config: StageConfig, webOrigin: string): string[] {
  return config.stage === 'prod' ? [webOrigin] : [webOrigin, ...LOCAL_WEB_ORIGINS];
}
