/**
 * Names of the environment variables the Lambda handlers read. The CDK constructs set them through
 * `grantXxx` methods and the local stack sets them for its processes: one name, one meaning, everywhere.
 */
export const EnvName = {
  /** The single DynamoDB table (conversations, messages, jobs, quotas, usage, idempotency). */
  tableName: 'TABLE_NAME',
  /** URL of the SQS queue that carries job requests. */
  jobsQueueUrl: 'JOBS_QUEUE_URL',
  /** Name of the Kinesis stream that carries analytics and audit events. */
  eventsStreamName: 'EVENTS_STREAM_NAME',
  /**
   * Ordered, comma-separated SageMaker endpoints: this region's by name first, then fallbacks in other regions by
   * endpoint ARN (`arn:aws:sagemaker:<region>:<account>:endpoint/<name>`), which names the region to call them in.
   */
  inferenceEndpoints: 'INFERENCE_ENDPOINTS',
  /**
   * Comma-separated inference component names, position by position with INFERENCE_ENDPOINTS (empty where that
   * endpoint serves its model directly); the client sends a non-empty one as `InferenceComponentName`. Absent when
   * no endpoint uses inference components (`inference.minInstances` above 0).
   */
  inferenceComponents: 'INFERENCE_COMPONENTS',
  /** Model id reported by `/v1/models` and stored with each answer. */
  modelId: 'MODEL_ID',
  /**
   * The models served, as JSON (`lambdas/contracts/models.ts`): `[{"id","contextTokens","endpoints":[…],
   * "components":[…]}]`, the first the default. Unset: one model, from MODEL_ID, MODEL_CONTEXT_TOKENS,
   * INFERENCE_ENDPOINTS and INFERENCE_COMPONENTS.
   */
  models: 'MODELS',
  /** Moderation classifier provider: `none`, `comprehend`, `bedrock-guardrail` or `guard-model`. */
  moderationProvider: 'MODERATION_PROVIDER',
  /** Bedrock guardrail id and version, for the `bedrock-guardrail` provider. */
  guardrailId: 'GUARDRAIL_ID',
  guardrailVersion: 'GUARDRAIL_VERSION',
  /** Comma-separated blocklist words/phrases (matched on word boundaries, case/diacritic/leet-insensitive). */
  moderationBlocklist: 'MODERATION_BLOCKLIST',
  /** JSON overrides of the moderation rule actions, e.g. `{"pii":{"email":{"input":"block"}}}` (lambdas/moderation/README.md). */
  moderationRules: 'MODERATION_RULES',
  /** What happens when the classifier fails, per direction: `open` (let through) or `closed` (block). */
  moderationFailModeInput: 'MODERATION_FAIL_MODE_INPUT',
  moderationFailModeOutput: 'MODERATION_FAIL_MODE_OUTPUT',
  /** Deadline of one classifier call, in milliseconds. */
  moderationTimeoutMs: 'MODERATION_TIMEOUT_MS',
  /** Comma-separated `category=score` thresholds for score-based classifiers, e.g. `default=0.5,hate=0.3`. */
  moderationThresholds: 'MODERATION_THRESHOLDS',
  /** Comma-separated regions that write the global table: counters are kept per region and summed over these. */
  tableRegions: 'TABLE_REGIONS',
  /** Per-user limits. */
  requestsPerMinute: 'QUOTA_REQUESTS_PER_MINUTE',
  routeReadsPerMinute: 'QUOTA_READS_PER_MINUTE',
  routeWritesPerMinute: 'QUOTA_WRITES_PER_MINUTE',
  /** Requests per minute one client address may make to the public share route (`GET /v1/shared/{id}`). */
  sharedReadsPerMinutePerAddress: 'SHARED_READS_PER_MINUTE_PER_IP',
  tokensPerDay: 'QUOTA_TOKENS_PER_DAY',
  maxCompletionTokens: 'MAX_COMPLETION_TOKENS',
  /**
   * Context size of one engine slot, in tokens (llama-server: `-c` ÷ `-np`; its default per slot is 4096). The
   * prompt and the answer share it: the context window and every `max_tokens` are cut to fit.
   */
  modelContextTokens: 'MODEL_CONTEXT_TOKENS',
  /** ASCII characters per token of the model's tokenizer, for token estimates (4 for BPE vocabularies, 1 for byte-level). */
  modelCharsPerToken: 'MODEL_CHARS_PER_TOKEN',
  /** Optional lower prompt budget of the chat context window, in estimated tokens; default: what the model context allows. */
  contextTokenBudget: 'CONTEXT_TOKEN_BUDGET',
  /** Chat answers one user may have in progress at once (streamed or not); more are refused with 429. */
  maxConcurrentTurnsPerUser: 'CHAT_MAX_CONCURRENT_TURNS_PER_USER',
  /** Longest wait for the model's first token per attempt, in milliseconds; keep it below the Lambda timeout. */
  inferenceTimeoutMs: 'INFERENCE_TIMEOUT_MS',
  /** Days a message is kept before DynamoDB TTL removes it; 0 keeps messages forever. */
  messageRetentionDays: 'MESSAGE_RETENTION_DAYS',
  /** Days an audit record is kept; 0 keeps them forever. */
  auditRetentionDays: 'AUDIT_RETENTION_DAYS',
  /** Secrets Manager secret holding the Slack incoming-webhook URL (alerts forwarder). */
  slackWebhookSecretName: 'SLACK_WEBHOOK_SECRET_NAME',
  /** Jobs a user may have queued or processing at once; more are refused with 429. */
  jobsMaxActivePerUser: 'JOBS_MAX_ACTIVE_PER_USER',
  /** How long a worker's claim on a job lasts; set to the worker's Lambda timeout (seconds, fractions allowed). */
  jobLeaseSeconds: 'JOB_LEASE_SECONDS',
  /** Days a finished job (request and result) is kept before DynamoDB TTL removes it; 0 keeps jobs forever. */
  jobRetentionDays: 'JOB_RETENTION_DAYS',
  /** Private bucket holding uploaded files (`files/<owner>/<file id>`). */
  filesBucketName: 'FILES_BUCKET_NAME',
  /** Largest file accepted, in bytes (the presigned-upload path; multipart bodies are capped lower). */
  filesMaxBytes: 'FILES_MAX_BYTES',
  /** Bytes of files one user may store at once. */
  filesQuotaBytesPerUser: 'FILES_QUOTA_BYTES_PER_USER',
  /** The queue of users' data tasks: exports, and the second sweep after an erasure (lambdas/user-data-worker). */
  userDataQueueUrl: 'USER_DATA_QUEUE_URL',
  /** Private bucket holding users' data exports (`exports/<owner>/<export id>.jsonl`), expired by lifecycle. */
  exportsBucketName: 'EXPORTS_BUCKET_NAME',
  /** Seconds between an erasure and its second sweep; default: the longest a stream or job attempt can run. */
  erasureSweepDelaySeconds: 'ERASURE_SWEEP_DELAY_SECONDS',
  /** Embedding model for file retrieval: `none` (BM25 only), `openai` (an `/v1/embeddings` URL) or `bedrock`. */
  embeddingsProvider: 'EMBEDDINGS_PROVIDER',
  /** Base URL of an OpenAI-compatible embeddings server (llama-server `--embeddings`), for `openai`. */
  embeddingsUrl: 'EMBEDDINGS_URL',
  /** Embedding model id (Bedrock model id or the server's model name). */
  embeddingsModel: 'EMBEDDINGS_MODEL',
  /** ARN of the Amazon S3 Vectors index holding file chunk vectors; unset: vectors stay on the table's chunks. */
  vectorIndexArn: 'VECTOR_INDEX_ARN',
  /** The OAuth issuer whose access tokens the authorizer accepts (Cognito's `https://cognito-idp.<region>.amazonaws.com/<pool id>`). */
  authIssuer: 'AUTH_ISSUER',
  /** Where the issuer publishes its signing keys. @default `<issuer>/.well-known/jwks.json` (Cognito's path) */
  authJwksUri: 'AUTH_JWKS_URI',
  /** Comma-separated app client ids whose access tokens are accepted (the token's `client_id`). */
  authClientIds: 'AUTH_CLIENT_IDS',
  /** What the issuer puts before each API scope, e.g. Cognito's `<resource server id>/`; empty locally. */
  authScopePrefix: 'AUTH_SCOPE_PREFIX',
  /** The Cognito user pool the admin API lists, disables and signs out users of; unset locally (no Cognito). */
  userPoolId: 'USER_POOL_ID',
  /**
   * Prices for the admin API's cost report, per million tokens, by model id (`*` for any other model), as JSON:
   * `{"*":{"inputPerMillion":0.5,"outputPerMillion":1.5}}`. Unset: costs are reported as 0.
   */
  modelPrices: 'MODEL_PRICES',
  /** Origins allowed by CORS, comma-separated (the web app's URL first); the request's own is echoed. */
  webOrigin: 'WEB_ORIGIN',
  /** Powertools settings (standard names). */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  /** Local stack only: endpoints of the emulators, in the AWS SDK's own variable names. */
  dynamodbEndpoint: 'AWS_ENDPOINT_URL_DYNAMODB',
  sqsEndpoint: 'AWS_ENDPOINT_URL_SQS',
  kinesisEndpoint: 'AWS_ENDPOINT_URL_KINESIS',
  sagemakerRuntimeEndpoint: 'AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME',
  s3Endpoint: 'AWS_ENDPOINT_URL_S3',
} as const;

export type EnvName = (typeof EnvName)[keyof typeof EnvName];
