import * as z from 'zod';

/**
 * The user-data worker's queue (lambdas/user-data-worker): exports of a user's data to S3 and the second sweep
 * after an erasure. Read by the CDK construct that deploys the queue and by the local event sources.
 */
export const USER_DATA_SOURCE = {
  /** One task per invocation: an export can take the whole timeout. */
  batchSize: 1,
  /** Lambda's longest timeout: an export streams every page of a large account. */
  workerTimeoutSeconds: 900,
  /** At least 6× the worker timeout, so a task never becomes visible again while a worker still runs it. */
  visibilityTimeoutSeconds: 6 * 900,
  maxReceiveCount: 3,
  deadLetterRetentionDays: 14,
  /** SQS's longest message delay: a task due later is sent again, delayed, until it is due. */
  maxDelaySeconds: 900,
} as const;

/**
 * The longest a stream or a job attempt can write after it started: both run in one Lambda invocation (chat
 * streams up to 15 min, a job attempt up to its worker timeout), capped by Lambda's 900 s, plus a minute for
 * writes retried after it. The second sweep after an erasure runs this long after the first.
 */
export const SECOND_SWEEP_DELAY_SECONDS = 900 + 60;

export const EXPORT_LIMITS = {
  /** How long a download link of a finished export works. */
  downloadUrlSeconds: 900,
  /** Days an export object is kept (the bucket's lifecycle rule) and its record lives (TTL). */
  retentionDays: 1,
  /** Items read per page while an export is written: memory is bounded by one page and one upload part. */
  pageSize: 200,
} as const;

/** Export objects live under this prefix, one folder per user. */
export const EXPORTS_KEY_PREFIX = 'exports/';

/** The object of one export: only the owner's export records name it. */
export const exportObjectKey = (sub: string, exportId: string) =>
  `${EXPORTS_KEY_PREFIX}${encodeURIComponent(sub)}/${exportId}.jsonl`;

export const UserDataTask = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('export'), sub: z.string().min(1), exportId: z.string().min(1) }),
  z.object({
    kind: z.literal('sweep'),
    sub: z.string().min(1),
    /** Epoch ms of the erasure this sweep follows. */
    erasedAt: z.number().int().nonnegative(),
    /** Epoch ms from which the sweep may run (earlier deliveries are sent again, delayed). */
    dueAt: z.number().int().nonnegative(),
  }),
]);
export type UserDataTask = z.infer<typeof UserDataTask>;
