import { EnvName } from '../contracts/env';
import type { AnalyticsEvent } from '../contracts/events';
import { createEventEmitter } from '../events/emitter';
import { fileDepsFromEnv } from '../files/deps';
import { loadFileSettings } from '../files/settings';
import { defaultBreakers, type InferenceDeps, invokeChat } from '../inference';
import { modelCatalogOf } from '../models/catalog';
import { createClassifier, createModeration, moderationConfigFromEnv } from '../moderation';
import { type Config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { loadKinesisClient } from '../shared/lazy-kinesis-client';
import { sagemakerRuntimeClient, sagemakerRuntimeClientFor } from '../shared/sagemaker-runtime-client';
import { titleRequester } from '../titles/title';
import type { ChatDeps } from './pipeline';
import { DEFAULT_LIMITS } from './prepare';

/**
 * Builds the chat pipeline's dependencies from the configuration, once per execution environment: the SDK
 * clients come from `shared/*-client` (singletons), the moderation module and the event emitter are created
 * here. The chat handler and the job worker share this wiring.
 */
export function createChatDeps(cfg: Config): ChatDeps {
  const tableName = required(cfg.tableName, EnvName.tableName);
  const models = modelCatalogOf(cfg);
  // The default model (the first) serves requests that name none, and the guard model.
  const [defaultModel] = models.models;
  const inference: InferenceDeps = {
    client: sagemakerRuntimeClient(),
    endpoints: required(defaultModel.endpoints, EnvName.inferenceEndpoints),
    components: defaultModel.components,
    regionalClients: sagemakerRuntimeClientFor,
    breakers: defaultBreakers,
    ...(cfg.inferenceTimeoutMs === undefined
      ? {}
      : { options: { firstTokenTimeoutMs: cfg.inferenceTimeoutMs } }),
  };
  const moderationConfig = moderationConfigFromEnv(cfg);
  const classifier = createClassifier(moderationConfig, {
    // The guard model is the same endpoint, asked for a grammar-constrained JSON verdict.
    complete: async (messages, responseFormat, options) =>
      (
        await invokeChat(
          inference,
          { messages, response_format: { ...responseFormat }, temperature: 0, max_tokens: 64 },
          options?.abortSignal,
        )
      ).text,
  });
  // Analytics go out after the response: the Kinesis SDK is loaded on the first emit, not at cold start.
  const emitter = cfg.eventsStreamName
    ? createEventEmitter({ kinesis: loadKinesisClient, streamName: cfg.eventsStreamName })
    : undefined;
  return {
    store: { db: documentClient(), tableName, retentionDays: cfg.messageRetentionDays, region: cfg.region },
    quota: {
      db: documentClient(),
      tableName,
      requestsPerMinute: cfg.requestsPerMinute,
      tokensPerDay: cfg.tokensPerDay,
      region: cfg.region,
      regions: cfg.tableRegions ?? [],
      maxConcurrentTurns: cfg.maxConcurrentTurnsPerUser ?? 8,
    },
    inference,
    moderation: createModeration({ config: moderationConfig, ...(classifier ? { classifier } : {}) }),
    modelId: defaultModel.id,
    models,
    limits: {
      ...DEFAULT_LIMITS,
      modelContextTokens: defaultModel.contextTokens,
      maxCompletionTokens: cfg.maxCompletionTokens,
      promptTokenBudget: cfg.contextTokenBudget,
      charsPerToken: defaultModel.charsPerToken ?? cfg.modelCharsPerToken,
    },
    region: cfg.region,
    ...retrievalDeps(),
    // Titles are written by the jobs worker: the first answer of a conversation puts a request on its queue.
    ...(cfg.jobsQueueUrl
      ? {
          requestTitle: titleRequester(
            async () => (await import('../shared/sqs-client')).sqsClient(),
            cfg.jobsQueueUrl,
          ),
        }
      : {}),
    ...(emitter ? { emitEvents: (events: readonly AnalyticsEvent[]) => emitter.emitEvents(events) } : {}),
  };
}

/** Retrieval over the user's files, when the deployment has a files bucket (`FileStore.grantRetrieval`). */
function retrievalDeps(): Pick<ChatDeps, 'files'> {
  if (loadFileSettings().bucketName === undefined) return {};
  const { store, vectors, embedder } = fileDepsFromEnv();
  return { files: { store, vectors, embedder } };
}
