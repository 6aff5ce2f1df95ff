import { z } from 'zod';
import { ModelPrices } from '../lambdas/contracts/admin';
import { LIMITS } from '../lambdas/contracts/api';
import { ModelIdSchema } from '../lambdas/contracts/models';
import { ModerationRulesSchema } from '../lambdas/moderation/config';
import { AlarmThresholdsSchema } from './constructs/monitoring/thresholds';
import { toolCallParserFor } from './tool-call-parser';

/**
 * The typed, validated configuration of one deployment stage. `bin/app.ts` reads the CDK context and hands the
 * raw values to `parseStageConfig`; everything under `lib/` receives the parsed result and never reads context.
 */

export const FUNCTION_NAMES = [
  'chat',
  'models',
  'conversations',
  'me',
  'jobs',
  'client-errors',
  'api-keys',
  'authorizer',
  'jobs-worker',
  'jobs-dlq',
  'usage-aggregator',
  'audit',
  'files',
  'files-ingest',
  'files-ingest-dlq',
  'admin',
  'user-data-worker',
] as const;
export type AppFunctionName = (typeof FUNCTION_NAMES)[number];

const region = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'Expected an AWS region such as us-east-1');
const positiveInt = z.number().int().positive();
const httpsUrl = z.url({ protocol: /^https?$/ });

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const InferenceSchema = z
  .object({
    /** `vllm`: AWS's LMI (djl-inference) container; `llamacpp`: the `gpu-endpoint/` image with a GGUF model. */
    engine: z.enum(['vllm', 'llamacpp']).default('vllm'),
    instanceType: z
      .string()
      .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'Expected a SageMaker instance type such as ml.g5.2xlarge')
      .default('ml.g5.2xlarge'),
    /**
     * 0 (dev only) serves the model as an inference component whose copies scale to zero when idle and wake on the
     * first request (minutes); prod needs at least 2 instances across AZs.
     * @default 2 in prod (two AZs), 1 otherwise
     */
    minInstances: z.number().int().min(0).optional(),
    /** @default 4 in prod, 1 otherwise */
    maxInstances: positiveInt.optional(),
    /** In-flight requests per model copy the autoscaler aims for (matches the engine's batch slots). */
    targetConcurrentRequestsPerModel: positiveInt.default(16),
    /** Key prefix in the region's model bucket holding the weights (staged by `scripts/stage-model.ts`). */
    modelPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._\-/]+\/$/, 'Expected an S3 key prefix ending in "/"')
      .default('models/default/'),
    /** LMI image tag in AWS's djl-inference repository. */
    lmiImageTag: z
      .string()
      .regex(/lmi/, 'Expected an LMI tag of the djl-inference repository, e.g. 0.33.0-lmi15.0.0-cu128')
      .default('0.33.0-lmi15.0.0-cu128'),
    maxRollingBatchSize: positiveInt.default(32),
    tensorParallelDegree: z.union([positiveInt, z.literal('max')]).default('max'),
    /** Time allowed for weights to download and the container to answer /ping. */
    startupHealthCheckTimeoutSeconds: z.number().int().min(60).max(3600).default(1200),
    modelDataDownloadTimeoutSeconds: z.number().int().min(60).max(3600).default(1200),
    /**
     * With `minInstances: 0`: memory one model copy reserves when SageMaker places it on an instance (a reservation,
     * not a limit; asking for much more than the default can leave the copy without a place).
     */
    memoryPerCopyMb: z.number().int().min(128).default(1024),
    /** With `minInstances: 0`: GPUs one model copy uses (0 on CPU instances). */
    acceleratorsPerCopy: z.number().int().min(0).default(1),
  })
  .strict();

/** A Secrets Manager secret name (never the secret itself: templates and context hold names only). */
const secretName = z.string().regex(/^[\w/+=.@-]{1,512}$/, 'Expected a Secrets Manager secret name');
/** Cognito provider names (shown on the login page's buttons), never one Cognito reserves for its own. */
const providerNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][\w.@+-]{0,30}[A-Za-z0-9]$/,
    'Expected 2–32 letters, digits or ._@+- for a provider name',
  )
  .refine((name) => !['Cognito', 'Google', 'Facebook', 'LoginWithAmazon', 'SignInWithApple'].includes(name), {
    message: 'is a name Cognito reserves',
  });
const groupName = z
  .string()
  .regex(/^[\w+=,.@-]{1,128}$/, 'Expected a group name (letters, digits and +=,.@-_)')
  .refine((name) => name !== 'admin', { message: '"admin" always exists; list only extra groups' });

const FederationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('oidc'),
      name: providerNameSchema,
      issuerUrl: z.url({ protocol: /^https$/ }),
      clientId: z.string().min(1),
      /** Secrets Manager secret holding the client secret as plain text. */
      clientSecretName: secretName,
    })
    .strict(),
  z
    .object({
      type: z.literal('saml'),
      name: providerNameSchema,
      /** URL of the IdP's SAML metadata document. */
      metadataUrl: z.url({ protocol: /^https$/ }),
    })
    .strict(),
  z
    .object({
      type: z.literal('google'),
      clientId: z.string().min(1),
      clientSecretName: secretName,
    })
    .strict(),
]);
export type FederatedProvider = z.output<typeof FederationSchema>;

/** The name Cognito knows a provider by (Google's is fixed). */
export function providerName(provider: FederatedProvider): string {
  return provider.type === 'google' ? 'Google' : provider.name;
}

const IdentitySchema = z
  .object({
    /** Cognito managed login domain prefix (must be unique in the region). @default chatstack-<stage>-<account> */
    domainPrefix: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'Expected a lowercase domain prefix')
      .optional(),
    /** Extra OAuth callback URLs besides the web app's own. */
    callbackUrls: z.array(httpsUrl).default([]),
    logoutUrls: z.array(httpsUrl).default([]),
    selfSignUp: z.boolean().default(true),
    /** Cognito Plus feature plan with threat protection enforced. @default true in prod */
    advancedSecurity: z.boolean().optional(),
    accessTokenMinutes: z.number().int().min(5).max(60).default(15),
    refreshTokenDays: z.number().int().min(1).max(3650).default(30),
    /** OAuth resource server identifier; Cognito scopes are `<resourceServerId>/chat:read|write`. */
    resourceServerId: z
      .string()
      .regex(/^[\w+=,.@:/-]{1,256}$/)
      .default('chatstack'),
    /** Second factor (TOTP authenticator apps): `required` for everyone, `optional` per person, or `off`. */
    mfa: z.enum(['off', 'optional', 'required']).default('optional'),
    /** Cognito groups; `admin` always exists (the admin API requires it), these are added to it. */
    groups: z.array(groupName).default([]),
    /** Sign-in through other identity providers, offered on the managed login page of the web client. */
    federation: z.array(FederationSchema).default([]),
  })
  .strict()
  .refine((identity) => new Set(identity.federation.map(providerName)).size === identity.federation.length, {
    message: 'identity.federation: provider names must be unique (google is named "Google")',
  });

const ApiSchema = z
  .object({
    throttleRatePerSecond: positiveInt.default(50),
    throttleBurst: positiveInt.default(100),
    /** WAF rate-based rule: requests per IP per 5 minutes. */
    wafRequestsPer5MinutesPerIp: z.number().int().min(10).default(2000),
    /** Lambda timeout of the streaming chat function (the stream's upper bound). */
    chatTimeoutSeconds: z.number().int().min(30).max(900).default(300),
  })
  .strict();

const CustomDomainSchema = z
  .object({
    /** The API's public name, e.g. api.chat.example.com; each region gets a latency record for it. */
    domainName: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/),
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]+$/),
    hostedZoneName: z.string().min(1),
  })
  .strict();

const AlarmsSchema = z
  .object({
    emails: z.array(z.email()).default([]),
    slackWorkspaceId: z.string().min(1).optional(),
    slackChannelId: z.string().min(1).optional(),
    slackWebhookSecretName: z.string().min(1).optional(),
    /** Overrides of the alarm thresholds (DEFAULT_ALARM_THRESHOLDS in lib/constructs/monitoring/thresholds.ts). */
    thresholds: AlarmThresholdsSchema.default({}),
  })
  .strict();

const QuotasSchema = z
  .object({
    requestsPerMinute: positiveInt.default(60),
    /** Per-user requests per minute on every other route: GET/HEAD in one bucket, other methods in another. */
    readsPerMinute: positiveInt.default(300),
    writesPerMinute: positiveInt.default(60),
    tokensPerDay: positiveInt.default(1_000_000),
    maxCompletionTokens: positiveInt.default(LIMITS.defaultMaxCompletionTokens),
  })
  .strict();

const RetentionSchema = z
  .object({
    /** CloudWatch log retention of every function and the API access log. @default 30 (dev), 365 (prod) */
    logDays: z
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `Expected one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .optional(),
    /** Days before DynamoDB TTL removes a message; 0 keeps messages forever. */
    messageDays: z.number().int().min(0).default(0),
    auditDays: z.number().int().min(0).default(365),
  })
  .strict();

/** How a new function version takes over its `live` alias (CodeDeploy). */
const FunctionReleaseSchema = z
  .object({
    /**
     * `canary`: `percent` of requests for `intervalMinutes`, then all; `linear`: `percent` more every
     * `intervalMinutes`; `all-at-once`: at once (the alarms can still roll it back afterwards).
     */
    type: z.enum(['canary', 'linear', 'all-at-once']).default('canary'),
    percent: z.number().int().min(1).max(99).default(10),
    intervalMinutes: z.number().int().min(1).max(2880).default(5),
  })
  .strict();

/** How an endpoint update shifts traffic to the new fleet (SageMaker deployment guardrails). */
const EndpointReleaseSchema = z
  .object({
    /** Share of the new fleet's capacity that takes traffic first (at most 50 %; single-instance fleets shift at once). */
    canaryPercent: z.number().int().min(1).max(50).default(10),
    /** How long the alarms watch the canary (and then the whole new fleet) before going on. */
    bakeMinutes: z.number().int().min(0).max(60).default(10),
  })
  .strict();

const ReleaseSchema = z
  .object({
    functions: FunctionReleaseSchema.prefault({}),
    endpoint: EndpointReleaseSchema.prefault({}),
  })
  .strict();

const FailModeSchema = z.enum(['open', 'closed']);
const guardrailId = z.string().regex(/^[a-z0-9]+$/, 'Expected a Bedrock guardrail id such as abcd1234efgh');

/** The moderation pipeline's settings (lambdas/moderation/README.md), passed as `MODERATION_*` variables. */
const ModerationSchema = z
  .object({
    /** Classifier behind the rules; `guard-model` asks the chat model itself for a verdict. */
    provider: z.enum(['none', 'comprehend', 'bedrock-guardrail', 'guard-model']).default('none'),
    /**
     * Bedrock guardrail id (not its ARN), for `bedrock-guardrail`. A guardrail lives in one region and each region's
     * functions call Bedrock in their own region, so several regions need one id each: `{"us-east-1":"…",…}`.
     */
    guardrailId: z.union([guardrailId, z.record(region, guardrailId)]).optional(),
    guardrailVersion: z
      .string()
      .regex(/^(DRAFT|[1-9]\d{0,7})$/, 'Expected DRAFT or a version number')
      .default('DRAFT'),
    /** Words and phrases blocked both ways (MODERATION_BLOCKLIST is comma-separated, so no commas inside). */
    blocklist: z
      .array(
        z
          .string()
          .trim()
          .min(1)
          .regex(/^[^,]+$/, 'Blocklist entries cannot contain commas'),
      )
      .default([]),
    /** Overrides of the rule actions (MODERATION_RULES), e.g. `{"pii":{"email":"redact"}}`. */
    rules: ModerationRulesSchema.optional(),
    /** What a classifier failure does per direction: input fails closed, output fails open by default. */
    failMode: z
      .object({ input: FailModeSchema.default('closed'), output: FailModeSchema.default('open') })
      .strict()
      .prefault({}),
    /** Deadline of one classifier call. */
    timeoutMs: z.number().int().min(100).max(30_000).default(1500),
    /** Score thresholds per category for score-based classifiers, e.g. `{"default":0.5,"hate":0.3}`. */
    thresholds: z.record(z.string().regex(/^[a-z_]+$/), z.number().min(0).max(1)).default({}),
  })
  .strict()
  .refine(
    (moderation) => moderation.provider !== 'bedrock-guardrail' || moderation.guardrailId !== undefined,
    {
      message: 'moderation.guardrailId is required with the bedrock-guardrail provider',
    },
  );

const weightsPrefix = z.string().regex(/^[A-Za-z0-9._\-/]+\/$/, 'Expected an S3 key prefix ending in "/"');

/** One model the deployment serves (`models`): its id, its context, its weights and where it runs. */
const ModelSchema = z
  .object({
    /** What clients send as `model` and see in `/v1/models`. */
    id: ModelIdSchema,
    /**
     * Tokens of one sequence's context (prompt and answer together): the engine is started with it (LMI
     * `OPTION_MAX_MODEL_LEN`, the llama.cpp image's `CONTEXT_SIZE`), `/v1/models` reports it and every turn is cut
     * to fit. @default 4096 for the API, the engine's own default for the engine
     */
    contextTokens: positiveInt.optional(),
    /** Weights prefix in the region's model bucket. @default inference.modelPrefix for the first, `models/<id>/` after */
    modelPrefix: weightsPrefix.optional(),
    /**
     * `endpoint`: a SageMaker endpoint of its own in every region, with the instances, autoscaling, blue/green
     * updates and alarms `inference` sets (with `minInstances: 0`, an inference component scaling to zero on it).
     * `shared`: an inference component on the region's shared endpoint, beside the other `shared` models: its own
     * copies (`inference.minInstances`…`maxInstances`), autoscaling, alarms and rolling updates, on instances the
     * models share.
     */
    placement: z.enum(['endpoint', 'shared']).default('endpoint'),
    /**
     * vLLM's tool-call parser for this model's output (LMI `OPTION_TOOL_CALL_PARSER`).
     * @default chosen from the id: `hermes` (Qwen, Hermes, and any other), `llama3_json` (Llama 3), `mistral`…
     */
    toolCallParser: z
      .string()
      .regex(/^[a-z0-9_-]+$/, 'Expected a vLLM tool-call parser name such as hermes or llama3_json')
      .optional(),
  })
  .strict();

const RawConfigSchema = z
  .object({
    stage: z.enum(['dev', 'prod']).default('dev'),
    /** Deployment regions; the first one is primary (Cognito, web hosting, table owner). */
    regions: z
      .array(region)
      .min(1)
      .default(['us-east-1', 'us-west-2'])
      .refine((regions) => new Set(regions).size === regions.length, { message: 'regions must be unique' }),
    /** AWS account; @default the CLI's current account (CDK_DEFAULT_ACCOUNT) */
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    modelId: z.string().min(1).default('chatstack-default'),
    /** The models served, the first the default; unset: one model, `modelId`, on its own endpoint. */
    models: z
      .array(ModelSchema)
      .min(1)
      .refine((models) => new Set(models.map((model) => model.id)).size === models.length, {
        message: 'model ids must be unique',
      })
      .optional(),
    inference: InferenceSchema.prefault({}),
    identity: IdentitySchema.prefault({}),
    api: ApiSchema.prefault({}),
    customDomain: CustomDomainSchema.optional(),
    alarms: AlarmsSchema.prefault({}),
    quotas: QuotasSchema.prefault({}),
    retention: RetentionSchema.prefault({}),
    moderation: ModerationSchema.prefault({}),
    /** Canary releases of the API functions and the model endpoint, watched by alarms that roll them back. */
    release: ReleaseSchema.prefault({}),
    /** Reserved concurrency per function (absent: unreserved). */
    reservedConcurrency: z.partialRecord(z.enum(FUNCTION_NAMES), z.number().int().min(0)).default({}),
    /** Provisioned concurrency for the chat function's live alias (0: none). */
    chatProvisionedConcurrency: z.number().int().min(0).default(0),
    /**
     * Prices for the admin API's cost report, per million tokens, by model id (`*` for any other model), e.g.
     * `{"*":{"inputPerMillion":0.5,"outputPerMillion":1.5}}`. @default {} (costs reported as 0)
     */
    prices: ModelPrices.default({}),
    /** Built web app (vite output); a placeholder page is deployed when it is missing. */
    webDistPath: z.string().min(1).default('web/dist'),
  })
  .strict();

export type RawStageConfig = z.input<typeof RawConfigSchema>;
type Parsed = z.output<typeof RawConfigSchema>;

/** The resolved configuration: every stage-dependent default filled in. */
/** A served model with every default filled in. */
export interface ModelConfig {
  readonly id: string;
  /** Undefined: 4096 for the API, and the engine keeps its own default. */
  readonly contextTokens: number | undefined;
  readonly modelPrefix: string;
  readonly placement: 'endpoint' | 'shared';
  readonly toolCallParser: string;
}

export interface StageConfig
  extends Omit<Parsed, 'inference' | 'identity' | 'retention' | 'moderation' | 'models'> {
  readonly primaryRegion: string;
  /** Never empty: `models`, or the one model `modelId` (which is always the first model's id). */
  readonly models: readonly [ModelConfig, ...ModelConfig[]];
  readonly inference: Parsed['inference'] & { readonly minInstances: number; readonly maxInstances: number };
  readonly identity: Parsed['identity'] & { readonly advancedSecurity: boolean };
  readonly retention: Parsed['retention'] & { readonly logDays: number };
  readonly moderation: Omit<Parsed['moderation'], 'guardrailId'> & {
    /** The Bedrock guardrail of each region (every configured region has one with `bedrock-guardrail`). */
    readonly guardrailIds: Readonly<Record<string, string>>;
  };
}

export class StageConfigError extends Error {}

/** Validates raw context values and fills in the defaults; throws one error listing every bad key. */
export function parseStageConfig(raw: unknown): StageConfig {
  const parsed = RawConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new StageConfigError(`Invalid chatstack configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  const prod = config.stage === 'prod';
  const primaryRegion = config.regions[0];
  if (primaryRegion === undefined) throw new StageConfigError('regions must name at least one region');

  const minInstances = config.inference.minInstances ?? (prod ? 2 : 1);
  // Scale to zero needs at least one instance to wake up on.
  const maxInstances = config.inference.maxInstances ?? Math.max(minInstances, 1, prod ? 4 : 1);
  const problems: string[] = [];
  if (prod && minInstances < 2) {
    problems.push(`inference.minInstances: prod needs at least 2 instances across AZs, got ${minInstances}`);
  }
  if (maxInstances < minInstances) {
    problems.push(
      `inference.maxInstances (${maxInstances}) is below inference.minInstances (${minInstances})`,
    );
  }
  const slack = [config.alarms.slackWorkspaceId, config.alarms.slackChannelId];
  if (slack.filter(Boolean).length === 1) {
    problems.push('alarms.slackWorkspaceId and alarms.slackChannelId go together');
  }
  const { guardrailId: guardrail, ...moderation } = config.moderation;
  const guardrailIds: Record<string, string> =
    typeof guardrail === 'string' ? { [primaryRegion]: guardrail } : { ...guardrail };
  if (moderation.provider === 'bedrock-guardrail') {
    if (typeof guardrail === 'string' && config.regions.length > 1) {
      problems.push(
        `moderation.guardrailId: "${guardrail}" exists in one region only; give one per region, ` +
          `e.g. {${config.regions.map((r) => `"${r}":"…"`).join(',')}}`,
      );
    }
    const missing = config.regions.filter((r) => guardrailIds[r] === undefined);
    const unknown = Object.keys(guardrailIds).filter((r) => !config.regions.includes(r));
    if (typeof guardrail !== 'string' && missing.length > 0) {
      problems.push(`moderation.guardrailId: no guardrail for ${missing.join(', ')}`);
    }
    if (unknown.length > 0) {
      problems.push(`moderation.guardrailId: ${unknown.join(', ')} is not a configured region`);
    }
  }
  if (problems.length > 0)
    throw new StageConfigError(`Invalid chatstack configuration: ${problems.join('; ')}`);

  const declared = config.models ?? [{ id: config.modelId, placement: 'endpoint' as const }];
  const [first, ...rest] = declared.map(
    (model, index): ModelConfig => ({
      id: model.id,
      contextTokens: model.contextTokens,
      modelPrefix: model.modelPrefix ?? (index === 0 ? config.inference.modelPrefix : `models/${model.id}/`),
      placement: model.placement,
      toolCallParser: model.toolCallParser ?? toolCallParserFor(model.id),
    }),
  );
  if (first === undefined) throw new StageConfigError('models must name at least one model');
  return {
    ...config,
    primaryRegion,
    modelId: first.id,
    models: [first, ...rest],
    inference: { ...config.inference, minInstances, maxInstances },
    identity: { ...config.identity, advancedSecurity: config.identity.advancedSecurity ?? prod },
    retention: { ...config.retention, logDays: config.retention.logDays ?? (prod ? 365 : 30) },
    moderation: { ...moderation, guardrailIds },
  };
}

/** Context keys `bin/app.ts` reads (top-level keys of cdk.json `context` or `-c key=value`). */
export const CONTEXT_KEYS = Object.keys(RawConfigSchema.shape) as readonly (keyof Parsed)[];
