/**
 * CloudWatch metric names and dimensions, shared by the handlers (EMF through Powertools Metrics) and the
 * dashboard and alarm constructs. Add a metric here first, then emit it and chart it.
 */
export const METRICS_NAMESPACE = 'Chatstack';

export const MetricName = {
  requests: 'Requests',
  errors: 'Errors',
  timeToFirstToken: 'TimeToFirstToken',
  responseLatency: 'ResponseLatency',
  tokensIn: 'TokensIn',
  tokensOut: 'TokensOut',
  moderationBlocks: 'ModerationBlocks',
  /** Redactions by moderation (Direction, Category), beside the blocks. */
  moderationRedactions: 'ModerationRedactions',
  /** Moderation classifier failures (Direction); each one was let through or blocked per the fail mode. */
  moderationClassifierErrors: 'ModerationClassifierErrors',
  quotaRejections: 'QuotaRejections',
  /**
   * Answers whose write to the conversation store failed after every retry (the client got an error instead of
   * a finish). Any value > 0 means a user lost an answer: the alarm watches it.
   */
  answerPersistFailures: 'AnswerPersistFailures',
  /** Writes of an answer retried after a failed attempt (a leading indicator of AnswerPersistFailures). */
  answerPersistRetries: 'AnswerPersistRetries',
  /** Client-supplied messages (every role) input moderation checked for an answered turn; in the turn's EMF line. */
  moderationInputMessages: 'ModerationInputMessages',
  inferenceFallbacks: 'InferenceFallbacks',
  jobsCompleted: 'JobsCompleted',
  jobsFailed: 'JobsFailed',
  clientErrors: 'ClientErrors',
  /** Requests the authorizer refused (Reason); each one also emits an `auth.failed` event. */
  authFailures: 'AuthFailures',
  /** Requests the authorizer let through (AuthMethod: `oauth` or `api_key`). */
  authSuccesses: 'AuthSuccesses',
  /** Files that reached `processed` / `error` (ErrorKind: the reason code). */
  filesProcessed: 'FilesProcessed',
  filesFailed: 'FilesFailed',
  /** Pages (PDF) or parts of a file ingested, and the time one file took. */
  filePagesIngested: 'FilePagesIngested',
  fileIngestDuration: 'FileIngestDuration',
  /** Ratings of answers set or changed (Rating: `up` / `down`); clearing one counts nothing. */
  feedbackRatings: 'FeedbackRatings',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** Dimension names. Every metric carries `service`; the others only where listed in docs/metrics.md. */
export const MetricDimension = {
  /** Added by Powertools Metrics to every metric (POWERTOOLS_SERVICE_NAME); lower-case is what it emits. */
  service: 'service',
  /** Error kind for `Errors`: validation, auth, quota, moderation, inference, internal. */
  errorKind: 'ErrorKind',
  /** `input` or `output`, for `ModerationBlocks`. */
  direction: 'Direction',
  /** Moderation category, for `ModerationBlocks`. */
  category: 'Category',
  /** Why the authorizer refused, for `AuthFailures`: see `AuthFailureReason` (lambdas/authorizer). */
  reason: 'Reason',
  /** How the caller signed in, for `AuthSuccesses`. */
  authMethod: 'AuthMethod',
  /** `up` or `down`, for `FeedbackRatings`. */
  rating: 'Rating',
} as const;
