import * as z from 'zod';
import { EnvName } from '../contracts/env';
import { type ServedModel, ServedModelsSchema } from '../contracts/models';

/**
 * The runtime configuration of every handler, read once from the environment (cloud and local alike).
 * A bad value fails fast with the variable's name; settings a handler needs but may be absent elsewhere are
 * optional here and demanded with `required()` where they are used.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const csv = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .default([]);
/** Like `csv`, keeping empty entries: a list read position by position with another list. */
const positional = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()))
  .default([]);

const ConfigSchema = z.object({
  [EnvName.tableName]: z.string().min(1).optional(),
  // Opaque to us (the SDK sends to the configured endpoint); the local emulator's URLs are not strict URLs.
  [EnvName.jobsQueueUrl]: z.string().min(1).optional(),
  [EnvName.eventsStreamName]: z.string().min(1).optional(),
  [EnvName.inferenceEndpoints]: csv,
  [EnvName.inferenceComponents]: positional,
  [EnvName.modelId]: z.string().min(1).default('chatstack-default'),
  [EnvName.models]: z
    .string()
    .min(1)
    .transform((value, context) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'Expected JSON' });
        return z.NEVER;
      }
    })
    .pipe(ServedModelsSchema)
    .optional(),
  [EnvName.moderationProvider]: z
    .enum(['none', 'comprehend', 'bedrock-guardrail', 'guard-model'])
    .default('none'),
  [EnvName.guardrailId]: z.string().min(1).optional(),
  [EnvName.guardrailVersion]: z.string().min(1).default('DRAFT'),
  [EnvName.moderationBlocklist]: csv,
  [EnvName.moderationRules]: z.string().min(1).optional(),
  [EnvName.moderationFailModeInput]: z.enum(['open', 'closed']).default('closed'),
  [EnvName.moderationFailModeOutput]: z.enum(['open', 'closed']).default('open'),
  [EnvName.moderationTimeoutMs]: positiveInt(1500),
  [EnvName.moderationThresholds]: z.string().min(1).optional(),
  [EnvName.requestsPerMinute]: positiveInt(60),
  [EnvName.tableRegions]: csv,
  [EnvName.routeReadsPerMinute]: positiveInt(300),
  [EnvName.routeWritesPerMinute]: positiveInt(60),
  [EnvName.tokensPerDay]: positiveInt(1_000_000),
  [EnvName.maxCompletionTokens]: positiveInt(4096),
  [EnvName.modelContextTokens]: positiveInt(4096),
  [EnvName.modelCharsPerToken]: z.coerce.number().positive().default(4),
  [EnvName.contextTokenBudget]: z.coerce.number().int().positive().optional(),
  [EnvName.maxConcurrentTurnsPerUser]: positiveInt(8),
  [EnvName.inferenceTimeoutMs]: positiveInt(20_000),
  [EnvName.messageRetentionDays]: nonNegativeInt(0),
  [EnvName.auditRetentionDays]: nonNegativeInt(365),
  [EnvName.webOrigin]: z.string().min(1).default('*'),
  [EnvName.authIssuer]: z.string().min(1).optional(),
  [EnvName.authJwksUri]: z.string().min(1).optional(),
  [EnvName.authClientIds]: csv,
  [EnvName.authScopePrefix]: z.string().default(''),
  [EnvName.jobsMaxActivePerUser]: positiveInt(10),
  [EnvName.jobLeaseSeconds]: z.coerce.number().positive().default(300),
  [EnvName.jobRetentionDays]: nonNegativeInt(30),
  AWS_REGION: z.string().min(1).default('us-east-1'),
});

export type RawConfig = z.infer<typeof ConfigSchema>;

export interface Config {
  readonly tableName: string | undefined;
  readonly jobsQueueUrl: string | undefined;
  readonly eventsStreamName: string | undefined;
  readonly inferenceEndpoints: readonly string[];
  /** Inference component per endpoint ('' where none); optional so hand-built configs need not list it. */
  readonly inferenceComponents?: readonly string[];
  readonly modelId: string;
  /** The served models (`MODELS`); unset: one model from `modelId`, `modelContextTokens` and the endpoints. */
  readonly models?: readonly ServedModel[] | undefined;
  readonly moderationProvider: RawConfig[typeof EnvName.moderationProvider];
  readonly guardrailId: string | undefined;
  readonly guardrailVersion: string;
  /** Optional in the type so hand-built configs (tests) need not list every moderation setting. */
  readonly moderationBlocklist?: readonly string[];
  /** Raw JSON; parsed and validated by `moderationConfigFromEnv` (lambdas/moderation). */
  readonly moderationRules?: string | undefined;
  readonly moderationFailModeInput?: 'open' | 'closed';
  readonly moderationFailModeOutput?: 'open' | 'closed';
  readonly moderationTimeoutMs?: number;
  /** Raw `category=score` list; parsed by `moderationConfigFromEnv`. */
  readonly moderationThresholds?: string | undefined;
  readonly requestsPerMinute: number;
  /** Regions writing the global table (per-region counters are summed over them); only this one when empty. */
  readonly tableRegions?: readonly string[];
  /** Per-user requests per minute on every route, by bucket (lambdas/quota/route-limit.ts). */
  readonly routeReadsPerMinute?: number;
  readonly routeWritesPerMinute?: number;
  readonly tokensPerDay: number;
  readonly maxCompletionTokens: number;
  /** Tokens of one engine slot's context (prompt + answer); optional so hand-built configs need not list it. */
  readonly modelContextTokens?: number;
  /** ASCII characters per token of the model's tokenizer (token estimates). */
  readonly modelCharsPerToken?: number;
  /** A prompt budget below what the model context allows, when set. */
  readonly contextTokenBudget?: number | undefined;
  /** Chat turns one user may have in progress at once; optional like `modelContextTokens`. */
  readonly maxConcurrentTurnsPerUser?: number;
  /** Per-attempt deadline for the first token (ms); optional like `contextTokenBudget`. */
  readonly inferenceTimeoutMs?: number;
  readonly messageRetentionDays: number;
  readonly auditRetentionDays: number;
  readonly webOrigin: string;
  /** The authorizer's settings (lambdas/authorizer); optional in the type like the other per-handler ones. */
  readonly authIssuer?: string | undefined;
  readonly authJwksUri?: string | undefined;
  readonly authClientIds?: readonly string[];
  readonly authScopePrefix?: string;
  readonly jobsMaxActivePerUser: number;
  readonly jobLeaseSeconds: number;
  readonly jobRetentionDays: number;
  readonly region: string;
}

export class ConfigError extends Error {}

/** Parses the environment; throws one readable error listing every bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const raw = parsed.data;
  return {
    tableName: raw[EnvName.tableName],
    jobsQueueUrl: raw[EnvName.jobsQueueUrl],
    eventsStreamName: raw[EnvName.eventsStreamName],
    inferenceEndpoints: raw[EnvName.inferenceEndpoints],
    inferenceComponents: raw[EnvName.inferenceComponents],
    modelId: raw[EnvName.modelId],
    models: raw[EnvName.models],
    moderationProvider: raw[EnvName.moderationProvider],
    guardrailId: raw[EnvName.guardrailId],
    guardrailVersion: raw[EnvName.guardrailVersion],
    moderationBlocklist: raw[EnvName.moderationBlocklist],
    moderationRules: raw[EnvName.moderationRules],
    moderationFailModeInput: raw[EnvName.moderationFailModeInput],
    moderationFailModeOutput: raw[EnvName.moderationFailModeOutput],
    moderationTimeoutMs: raw[EnvName.moderationTimeoutMs],
    moderationThresholds: raw[EnvName.moderationThresholds],
    requestsPerMinute: raw[EnvName.requestsPerMinute],
    tableRegions: raw[EnvName.tableRegions],
    routeReadsPerMinute: raw[EnvName.routeReadsPerMinute],
    routeWritesPerMinute: raw[EnvName.routeWritesPerMinute],
    tokensPerDay: raw[EnvName.tokensPerDay],
    maxCompletionTokens: raw[EnvName.maxCompletionTokens],
    modelContextTokens: raw[EnvName.modelContextTokens],
    modelCharsPerToken: raw[EnvName.modelCharsPerToken],
    contextTokenBudget: raw[EnvName.contextTokenBudget],
    maxConcurrentTurnsPerUser: raw[EnvName.maxConcurrentTurnsPerUser],
    inferenceTimeoutMs: raw[EnvName.inferenceTimeoutMs],
    messageRetentionDays: raw[EnvName.messageRetentionDays],
    auditRetentionDays: raw[EnvName.auditRetentionDays],
    webOrigin: raw[EnvName.webOrigin],
    authIssuer: raw[EnvName.authIssuer],
    authJwksUri: raw[EnvName.authJwksUri],
    authClientIds: raw[EnvName.authClientIds],
    authScopePrefix: raw[EnvName.authScopePrefix],
    jobsMaxActivePerUser: raw[EnvName.jobsMaxActivePerUser],
    jobLeaseSeconds: raw[EnvName.jobLeaseSeconds],
    jobRetentionDays: raw[EnvName.jobRetentionDays],
    region: raw.AWS_REGION,
  };
}

/** Returns a setting a handler cannot run without, or fails naming the variable. */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) {
    throw new ConfigError(`Missing required environment variable ${name}`);
  }
  return value;
}

let cached: Config | undefined;
/** The process-wide configuration, parsed on first use (module load of a handler). */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
