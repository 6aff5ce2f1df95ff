import * as z from 'zod';

/**
 * The compact analytics and audit event every chat turn, job and security-relevant action emits to the events
 * stream. It carries ids, timings, token counts and verdicts — never message text — and stays well under 1 KB.
 * Consumers (usage aggregator, audit log) parse it with this schema and deduplicate on `eventId`.
 */
export const EVENT_SCHEMA_VERSION = 1;

export const EventType = {
  chatTurn: 'chat.turn',
  jobCompleted: 'job.completed',
  jobFailed: 'job.failed',
  moderationBlocked: 'moderation.blocked',
  authFailed: 'auth.failed',
  dataExported: 'data.exported',
  dataErased: 'data.erased',
  /** An administrator acted on an account (suspend, unsuspend, quota override); `sub` is the administrator. */
  adminAction: 'admin.action',
  /** A user rated an answer, changed or cleared the rating (`feedback`); never the answer or the comment. */
  feedbackRated: 'feedback.rated',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/**
 * Event types the usage aggregator counts: one `chat.turn` per model turn, whether the API or the job worker
 * ran it. `job.*` events describe the job's lifecycle (queue time, outcome) and repeat its turn's tokens for
 * analytics, so they are not counted again.
 */
export const USAGE_EVENT_TYPES: ReadonlySet<EventType> = new Set([EventType.chatTurn]);

/** Security-relevant event types: the audit log keeps these. */
export const AUDIT_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  EventType.moderationBlocked,
  EventType.authFailed,
  EventType.dataExported,
  EventType.dataErased,
  EventType.adminAction,
]);

export const ADMIN_ACTIONS = ['suspend', 'unsuspend', 'quota.set', 'quota.clear'] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

const id = z.string().min(1).max(64);
const milliseconds = z.number().int().min(0).max(86_400_000);
const tokens = z.number().int().min(0).max(10_000_000);

export const EventStatusSchema = z.enum(['ok', 'error', 'blocked', 'cancelled']);
export type EventStatus = z.infer<typeof EventStatusSchema>;

export const ModerationVerdictSchema = z.object({
  verdict: z.enum(['allowed', 'blocked', 'not_checked']),
  direction: z.enum(['input', 'output']).optional(),
  /** Policy category (e.g. `HATE_SPEECH`, `S1`), never the offending text. */
  category: z.string().max(48).optional(),
});

export const AnalyticsEventSchema = z.strictObject({
  v: z.literal(EVENT_SCHEMA_VERSION),
  /** Unique per event; consumers are idempotent on it. */
  eventId: z.uuid(),
  type: z.enum(Object.values(EventType) as [EventType, ...EventType[]]),
  /** ISO 8601 instant the event happened (the turn finished, the job settled, the export was served). */
  occurredAt: z.iso.datetime(),
  /** The user (or machine client) the event belongs to; also the Kinesis partition key. */
  sub: z.string().min(1).max(128),
  clientId: id.optional(),
  /** The personal API key the request was made with (its id, never the secret). */
  apiKeyId: id.optional(),
  requestId: id.optional(),
  conversationId: id.optional(),
  jobId: id.optional(),
  model: z.string().max(64).optional(),
  region: z.string().max(32).optional(),
  /** Time a job waited in the queue before a worker picked it up. */
  queueMs: milliseconds.optional(),
  timeToFirstTokenMs: milliseconds.optional(),
  totalMs: milliseconds.optional(),
  tokensIn: tokens.optional(),
  tokensOut: tokens.optional(),
  moderation: ModerationVerdictSchema.optional(),
  status: EventStatusSchema,
  /** What an administrator did, and to whom (the target's audit pseudonym, never its id). */
  admin: z.strictObject({ action: z.enum(ADMIN_ACTIONS), target: z.string().max(80) }).optional(),
  /** A rating of an answer: what it is now (`cleared` when removed) and was before. */
  feedback: z
    .strictObject({
      rating: z.enum(['up', 'down', 'cleared']),
      previous: z.enum(['up', 'down', 'none']),
      hasComment: z.boolean(),
    })
    .optional(),
  /** Machine-readable error code (`model_unavailable`, `content_filter`, `invalid_token`…). */
  errorCode: z.string().max(48).optional(),
});

export type AnalyticsEvent = z.infer<typeof AnalyticsEventSchema>;

/** What a producer supplies; `v`, `eventId` and `occurredAt` are filled in by `buildEvent`. */
export type AnalyticsEventInput = Omit<AnalyticsEvent, 'v' | 'eventId' | 'occurredAt'> &
  Partial<Pick<AnalyticsEvent, 'eventId' | 'occurredAt'>>;

/** Upper bound the schema's field limits keep a serialized event under. */
export const MAX_EVENT_BYTES = 1024;

/** Builds a complete event with a fresh id and the current time (unless given). */
export function buildEvent(input: AnalyticsEventInput, now: Date = new Date()): AnalyticsEvent {
  return {
    ...input,
    v: EVENT_SCHEMA_VERSION,
    eventId: input.eventId ?? crypto.randomUUID(),
    occurredAt: input.occurredAt ?? now.toISOString(),
  };
}

/** The UTC day (YYYY-MM-DD) an event counts towards. */
export function eventDay(event: Pick<AnalyticsEvent, 'occurredAt'>): string {
  return event.occurredAt.slice(0, 10);
}

/**
 * The event source mappings of the async functions, described once: the CDK constructs (JobQueue, EventStream)
 * and the local event source mappings (scripts/local/event-sources/) both take their batch sizes and failure handling from here.
 */
export const ASYNC_EVENT_SOURCES = {
  jobs: {
    /** SQS batch size of the jobs worker. */
    batchSize: 10,
    /** The worker's Lambda timeout; the job lease (`JOB_LEASE_SECONDS`) equals it. */
    workerTimeoutSeconds: 300,
    /** At least 6× the worker timeout, so a batch never becomes visible again while a worker still runs it. */
    visibilityTimeoutSeconds: 6 * 300,
    /** Receives before SQS moves a message to the dead-letter queue. */
    maxReceiveCount: 3,
    deadLetterRetentionDays: 14,
  },
  events: {
    /** Kinesis batch size of each consumer. */
    batchSize: 100,
    /** On a function error, split the batch in two and retry each half. */
    bisectBatchOnFunctionError: true,
    /** Retries of a failing batch before its records go to the on-failure destination. */
    maxRetryAttempts: 5,
    /** One batch per shard at a time: the usage aggregator relies on in-order processing per partition key. */
    parallelizationFactor: 1,
    startingPosition: 'TRIM_HORIZON',
  },
} as const;
