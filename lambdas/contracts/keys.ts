/**
 * Key builders for the single table. Every item a user owns lives in that user's partition (`USER#<sub>`), so
 * every read is scoped to the caller by construction and GDPR export/erasure is one paginated query.
 */
const USER = 'USER#';

export const keys = {
  /** The partition holding everything a user owns. */
  userPartition: (sub: string) => `${USER}${sub}`,
  conversation: (sub: string, conversationId: string) => ({
    pk: keys.userPartition(sub),
    sk: `CONV#${conversationId}`,
  }),
  /** Messages sort by their zero-padded sequence number within the conversation. */
  message: (sub: string, conversationId: string, sequence: number) => ({
    pk: keys.userPartition(sub),
    sk: `MSG#${conversationId}#${String(sequence).padStart(8, '0')}`,
  }),
  messagePrefix: (conversationId: string) => `MSG#${conversationId}#`,
  job: (sub: string, jobId: string) => ({ pk: keys.userPartition(sub), sk: `JOB#${jobId}` }),
  /** The set of a user's jobs still queued or processing (the per-user job concurrency limit). */
  activeJobs: (sub: string) => ({ pk: keys.userPartition(sub), sk: 'JOBS#ACTIVE' }),
  /** The slots of a user's chat turns in progress (the per-user concurrent-turn limit). */
  activeTurns: (sub: string) => ({ pk: keys.userPartition(sub), sk: 'TURNS#ACTIVE' }),
  /** Fixed-window quota counters: one item per user and window. */
  quota: (sub: string, window: string) => ({ pk: keys.userPartition(sub), sk: `QUOTA#${window}` }),
  /** Usage aggregates per user and day (YYYY-MM-DD). */
  usage: (sub: string, day: string) => ({ pk: keys.userPartition(sub), sk: `USAGE#${day}` }),
  /**
   * Audit records live outside the user's partition, so erasing a user keeps the record of the erasure; the
   * subject is pseudonymised (see lambdas/audit). One partition per UTC day, newest last.
   */
  audit: (day: string, occurredAt: string, eventId: string) => ({
    pk: `AUDIT#${day}`,
    sk: `${occurredAt}#${eventId}`,
  }),
  /** Marker of an analytics event already counted by the usage aggregator (expires after the stream's retention). */
  usageEventMarker: (eventId: string) => ({ pk: `EVENT#${eventId}`, sk: 'USAGE' }),
  /** GSI1 partition for a user's conversation list. */
  conversationsIndex: (sub: string) => `CONVS#${sub}`,
} as const;
