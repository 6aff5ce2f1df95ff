/**
 * The one registry of what a user owns in the table: every sort-key prefix of the user's partition is listed here
 * either as user data (exported and erased) or as a limit (kept by erasure, so erasing your data never resets your
 * quotas). Export and erasure query one prefix at a time from this list; a new feature registers its prefix here
 * (test/unit/contracts/user-data.test.ts fails for a key builder that is in neither list).
 */
export interface UserDataPrefix {
  /** Sort-key prefix in `USER#<sub>`. */
  readonly prefix: string;
  /** What the items are, in the export's words. */
  readonly kind:
    | 'conversations'
    | 'messages'
    | 'jobs'
    | 'usage'
    | 'api_keys'
    | 'files'
    | 'file_passages'
    | 'idempotency_records'
    | 'exports'
    | 'feedback'
    | 'shares'
    | 'settings'
    | 'search_index'
    | 'responses';
  /** False for derived items that are erased but not exported (they are rebuilt from the exported ones). */
  readonly exported?: false;
}

export const USER_DATA_PREFIXES: readonly UserDataPrefix[] = [
  { prefix: 'CONV#', kind: 'conversations' },
  { prefix: 'MSG#', kind: 'messages' },
  { prefix: 'JOB#', kind: 'jobs' },
  { prefix: 'USAGE#', kind: 'usage' },
  { prefix: 'KEYUSAGE#', kind: 'usage' },
  { prefix: 'MODELUSAGE#', kind: 'usage' },
  { prefix: 'APIKEY#', kind: 'api_keys' },
  { prefix: 'APIKEYS#', kind: 'api_keys' },
  { prefix: 'FILE#', kind: 'files' },
  { prefix: 'FILES#', kind: 'files' },
  { prefix: 'CHUNK#', kind: 'file_passages' },
  // Stored responses of the Responses API (lambdas/responses/store.ts); their answers are conversation messages.
  { prefix: 'RESP#', kind: 'responses' },
  { prefix: 'RESPITEM#', kind: 'responses' },
  // Stored answers of requests sent with an Idempotency-Key (lambdas/shared/idempotency.ts).
  { prefix: 'IDEM#', kind: 'idempotency_records' },
  // Earlier exports of the user's data (their objects expire in the exports bucket, and go with an erasure).
  { prefix: 'EXPORT#', kind: 'exports' },
  // Ratings of answers (lambdas/feedback); shares, whose public snapshots erasure also revokes (lambdas/sharing).
  { prefix: 'FEEDBACK#', kind: 'feedback' },
  { prefix: 'SHARE#', kind: 'shares' },
  { prefix: 'SETTINGS', kind: 'settings' },
  // Derived from titles and messages (lambdas/search): erased with them, left out of the export (it can be rebuilt).
  { prefix: 'SRCH#', kind: 'search_index', exported: false },
  { prefix: 'SRCHSET#', kind: 'search_index', exported: false },
];

/**
 * Items of the user's partition that erasure keeps: the request and token counters, the slots of turns and jobs
 * in progress, an administrator's quota override, and the erase marker itself. They hold no content; all but the
 * override expire on their own.
 */
export const USER_LIMIT_PREFIXES: readonly string[] = [
  'QUOTA#',
  'JOBS#ACTIVE',
  'TURNS#ACTIVE',
  'LIMITS#',
  'ERASED',
];

/** Whether `sk` belongs to a registered kind of user data. */
export function userDataKindOf(sk: string): UserDataPrefix['kind'] | undefined {
  return USER_DATA_PREFIXES.find((entry) => sk.startsWith(entry.prefix))?.kind;
}
