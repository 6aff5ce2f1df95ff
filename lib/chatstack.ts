import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type App, type Environment, Tags } from 'aws-cdk-lib';
import type { StageConfig } from './config';
import type { ServedModelEndpoints } from './constructs/served-models';
import { ApiStack } from './stacks/api-stack';
import { AsyncStack } from './stacks/async-stack';
import { DataStack } from './stacks/data-stack';
import { IdentityStack } from './stacks/identity-stack';
import { InferenceStack } from './stacks/inference-stack';
import { OpsStack } from './stacks/ops-stack';
import { WebConfigStack, WebStack } from './stacks/web-stack';

/** The repository root (for web/dist and gpu-endpoint/). */
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface RegionStacks {
  readonly data: DataStack;
  readonly inference: InferenceStack;
  readonly async: AsyncStack;
  readonly api: ApiStack;
  readonly ops: OpsStack;
}

export interface Chatstack {
  readonly web: WebStack;
  readonly identity: IdentityStack;
  readonly webConfig: WebConfigStack;
  /** Every configured region's stacks, in configuration order (the primary first). */
  readonly regions: ReadonlyMap<string, RegionStacks>;
}

export interface ChatstackOptions {
  /** @default - account-agnostic (resolved at deploy time) */
  readonly account?: string;
}

/** Stack names: `chatstack-<stage>-<part>-<region>`, e.g. `chatstack-prod-api-us-west-2`. */
export function stackName(config: StageConfig, part: string, region: string): string {
  return `chatstack-${config.stage}-${part}-${region}`;
}

/**
 * Instantiates every stack of one stage: stateful data per region (the primary owns the global table), identity
 * and web hosting in the primary, and per region the stateless inference, async, API and operations stacks.
 *
 * Deployment order (enforced by dependencies): replica-region data stacks (their keys must exist before the
 * primary creates replicas with them) → primary data → web hosting → identity → every region's inference (each
 * region's functions name the other regions' endpoints as fallbacks) → per region async, API, ops → the web app's
 * config.json.
 */
export function createChatstack(app: App, config: StageConfig, options: ChatstackOptions = {}): Chatstack {
  const env = (region: string): Environment => ({ account: options.account, region });
  // Cross-stack references are weak (cdk.json: @aws-cdk/core:defaultCrossStackReferences = weak): consumers read
  // the producer's outputs with Fn::GetStackOutput, which works across regions (hence crossRegionReferences) and
  // never locks an export. The table's name reaches every region this way.
  const common = { crossRegionReferences: true };
  const primary = config.primaryRegion;
  Tags.of(app).add('application', 'chatstack');
  Tags.of(app).add('stage', config.stage);

  const dataStacks = new Map<string, DataStack>();
  for (const region of config.regions) {
    const isPrimary = region === primary;
    dataStacks.set(
      region,
      new DataStack(app, stackName(config, 'data', region), {
        ...common,
        env: env(region),
        description: `chatstack ${config.stage} stateful data in ${region}${isPrimary ? ' (global table owner)' : ''}`,
        terminationProtection: config.stage === 'prod',
        stage: config.stage,
        primary: isPrimary,
        replicaRegions: isPrimary ? config.regions.filter((other) => other !== primary) : [],
      }),
    );
  }
  const primaryData = required(dataStacks.get(primary), primary);
  for (const [region, stack] of dataStacks) {
    if (region !== primary)
      primaryData.addStackDependency(stack, 'replica keys must exist before the replicas');
  }
  const table = required(primaryData.dataTable, 'primary table').table;

  const distPath = isAbsolute(config.webDistPath)
    ? config.webDistPath
    : resolve(REPO_ROOT, config.webDistPath);
  const web = new WebStack(app, stackName(config, 'web', primary), {
    ...common,
    env: env(primary),
    description: `chatstack ${config.stage} web app hosting`,
    config,
    distPath,
  });
  const identity = new IdentityStack(app, stackName(config, 'identity', primary), {
    ...common,
    env: env(primary),
    description: `chatstack ${config.stage} user directory (Cognito)`,
    terminationProtection: config.stage === 'prod',
    config,
    webUrl: web.hosting.url,
  });

  // Every region's endpoint first: each region's functions fall over to the others' in configuration order.
  const inferenceStacks = new Map<string, InferenceStack>();
  for (const region of config.regions) {
    const data = required(dataStacks.get(region), region);
    const inference = new InferenceStack(app, stackName(config, 'inference', region), {
      ...common,
      env: env(region),
      description: `chatstack ${config.stage} model endpoint in ${region}`,
      config,
      encryptionKey: data.modelKey,
      llamaCppImageDirectory: resolve(REPO_ROOT, 'gpu-endpoint'),
    });
    inference.addStackDependency(data, 'the model bucket and its key');
    inferenceStacks.set(region, inference);
  }

  const regions = new Map<string, RegionStacks>();
  for (const region of config.regions) {
    const data = required(dataStacks.get(region), region);
    const inference = required(inferenceStacks.get(region), region);
    // Each model: its endpoint here, then the same model's endpoints in the other regions (configuration order).
    const others = config.regions
      .filter((other) => other !== region)
      .map((other) => required(inferenceStacks.get(other), other));
    const [defaultModel, ...moreModels] = inference.modelEndpoints.map(
      ({ model, endpoint }, index): ServedModelEndpoints => ({
        id: model.id,
        contextTokens: model.contextTokens,
        endpoint,
        fallbacks: others.map((other) => required(other.modelEndpoints[index], model.id).endpoint),
      }),
    );
    const models: [ServedModelEndpoints, ...ServedModelEndpoints[]] = [
      required(defaultModel, 'the default model'),
      ...moreModels,
    ];
    const tableName = table.tableName;
    const asyncStack = new AsyncStack(app, stackName(config, 'async', region), {
      ...common,
      env: env(region),
      description: `chatstack ${config.stage} job queue and event stream in ${region}`,
      config,
      tableName,
      tableKey: data.key,
      models,
    });
    const api = new ApiStack(app, stackName(config, 'api', region), {
      ...common,
      env: env(region),
      description: `chatstack ${config.stage} API in ${region}`,
      config,
      tableName,
      tableKey: data.key,
      models,
      jobQueue: asyncStack.jobQueue,
      eventStream: asyncStack.eventStream,
      tokenIssuer: identity.identity.issuerUrl,
      tokenClientIds: [
        identity.identity.webClient.userPoolClientId,
        identity.identity.machineClient.userPoolClientId,
      ],
      tokenScopePrefix: `${identity.identity.resourceServerId}/`,
      webOrigin: web.hosting.url,
      identity: identity.identity,
    });
    const ops = new OpsStack(app, stackName(config, 'ops', region), {
      ...common,
      env: env(region),
      description: `chatstack ${config.stage} dashboards and alarms in ${region}`,
      config,
      chatApi: api.chatApi,
      functions: {
        ...api.functions,
        ...api.fileFunctions,
        'user-data-worker': api.userDataWorker,
        authorizer: api.authorizer,
        ...asyncStack.functions,
      },
      tableName,
      tableKey: data.key,
      jobQueue: asyncStack.jobQueue,
      eventStream: asyncStack.eventStream,
      endpoint: inference.endpoint,
      // The other endpoints, once each (models sharing an endpoint are watched through it).
      modelEndpoints: inference.modelEndpoints.filter(
        ({ endpoint }, index, all) =>
          endpoint !== inference.endpoint && all.findIndex((each) => each.endpoint === endpoint) === index,
      ),
      fileStore: api.fileStore,
      userDataJobs: api.userDataJobs,
    });
    // The replica in this region is created by the primary's data stack; names alone carry no dependency.
    for (const stateless of [asyncStack, api, ops])
      stateless.addStackDependency(primaryData, 'the table replica');
    regions.set(region, { data, inference, async: asyncStack, api, ops });
  }

  const primaryApi = required(regions.get(primary), primary).api;
  const webConfig = new WebConfigStack(app, stackName(config, 'web-config', primary), {
    ...common,
    env: env(primary),
    description: `chatstack ${config.stage} web app configuration`,
    stage: config.stage,
    hosting: web.hosting,
    settings: {
      apiBaseUrl: primaryApi.chatApi.baseUrl,
      region: primary,
      cognitoDomain: identity.identity.loginBaseUrl,
      clientId: identity.identity.webClient.userPoolClientId,
      issuer: identity.identity.issuerUrl,
      scopes: [
        'openid',
        'email',
        'profile',
        identity.identity.cognitoScope('chat:read'),
        identity.identity.cognitoScope('chat:write'),
      ],
      redirectUri: `${web.hosting.url}/`,
      modelId: config.modelId,
    },
  });
  for (const stacks of regions.values())
    webConfig.addStackDependency(stacks.api, 'config.json names the API');

  return { web, identity, webConfig, regions };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`chatstack: missing ${what}`);
  return value;
}
