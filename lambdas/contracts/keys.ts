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
  /**
   * Messages sort by their zero-padded sequence number within the conversation, then by the region that wrote
   * them: two regions that took one sequence number before either saw the other's reservation (global-table
   * conditions are region-local) write two items, not one over the other. Messages stored before the region was
   * part of the key have none and still sort in place (`…#00000005` before `…#00000005#<region>`).
   */
  message: (sub: string, conversationId: string, sequence: number, region?: string) => ({
    pk: keys.userPartition(sub),
    sk: `MSG#${conversationId}#${String(sequence).padStart(8, '0')}${region === undefined ? '' : `#${region}`}`,
  }),
  messagePrefix: (conversationId: string) => `MSG#${conversationId}#`,
  job: (sub: string, jobId: string) => ({ pk: keys.userPartition(sub), sk: `JOB#${jobId}` }),
  /** The set of a user's jobs still queued or processing (the per-user job concurrency limit). */
  activeJobs: (sub: string) => ({ pk: keys.userPartition(sub), sk: 'JOBS#ACTIVE' }),
  /** The slots of a user's chat turns in progress (the per-user concurrent-turn limit). */
  activeTurns: (sub: string) => ({ pk: keys.userPartition(sub), sk: 'TURNS#ACTIVE' }),
  /** Fixed-window quota counters: one item per user and window. */
  quota: (sub: string, window: string) => ({ pk: keys.userPartition(sub), sk: `QUOTA#${window}` }),
  /** Per-user route limit counters: one item per bucket (`read` / `write`) and minute (YYYY-MM-DDTHH:MM). */
  routeQuota: (sub: string, bucket: string, minute: string) => ({
    pk: keys.userPartition(sub),
    sk: `QUOTA#ROUTE#${bucket}#${minute}`,
  }),
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
  /** A personal API key, in its owner's partition (erasing the user erases the key). */
  apiKey: (sub: string, keyId: string) => ({ pk: keys.userPartition(sub), sk: `APIKEY#${keyId}` }),
  apiKeyPrefix: 'APIKEY#',
  /** The ids of a user's live API keys: the per-user key limit is one conditional update of this set. */
  liveApiKeys: (sub: string) => ({ pk: keys.userPartition(sub), sk: 'APIKEYS#LIVE' }),
  /** GSI2 key of an API key: the authorizer finds a key by the SHA-256 of its secret, never by the secret. */
  apiKeyHashIndex: (secretHash: string) => ({ gsi2pk: `APIKEYHASH#${secretHash}`, gsi2sk: 'APIKEY' }),
  /** Usage of one personal API key per day (YYYY-MM-DD), beside its owner's total (`USAGE#<day>`). */
  apiKeyUsage: (sub: string, keyId: string, day: string) => ({
    pk: keys.userPartition(sub),
    sk: `KEYUSAGE#${keyId}#${day}`,
  }),
  /** Usage of one model by a user per day (YYYY-MM-DD), beside the user's total: the admin API's breakdown. */
  modelUsage: (sub: string, model: string, day: string) => ({
    pk: keys.userPartition(sub),
    sk: `MODELUSAGE#${day}#${model}`,
  }),
  modelUsagePrefix: 'MODELUSAGE#',
  /** An uploaded file's record (name, size, status). */
  file: (sub: string, fileId: string) => ({ pk: keys.userPartition(sub), sk: `FILE#${fileId}` }),
  filePrefix: 'FILE#',
  /** One item per text chunk of a file, in order. */
  fileChunk: (sub: string, fileId: string, index: number) => ({
    pk: keys.userPartition(sub),
    sk: `CHUNK#${fileId}#${String(index).padStart(6, '0')}`,
  }),
  fileChunkPrefix: (fileId: string) => `CHUNK#${fileId}#`,
  /** Bytes of files the user stores (the per-user storage quota). */
  fileStorage: (sub: string) => ({ pk: keys.userPartition(sub), sk: 'FILES#STORAGE' }),
  /** An export of the user's data (status, object key), served as a download link while it lasts. */
  dataExport: (sub: string, exportId: string) => ({ pk: keys.userPartition(sub), sk: `EXPORT#${exportId}` }),
  /**
   * Set when the user's data is erased (`erasedAt`, epoch ms): work that started before it (a stream, a job)
   * writes nothing after it. Kept by erasure (lambdas/contracts/user-data.ts), expires on its own.
   */
  eraseMarker: (sub: string) => ({ pk: keys.userPartition(sub), sk: 'ERASED' }),
  /**
   * A suspended account, outside the user's partition so erasing the user's data cannot lift it; the
   * authorizer reads it on every request (lambdas/admin/suspension.ts).
   */
  suspension: (sub: string) => ({ pk: `SUSPENSION#${sub}`, sk: 'SUSPENSION' }),
  suspensionPrefix: 'SUSPENSION#',
  /** An administrator's override of a user's quota limits (lambdas/admin/quota-override.ts). */
  quotaOverride: (sub: string) => ({ pk: keys.userPartition(sub), sk: 'LIMITS#OVERRIDE' }),
  /** The caller's feedback on one answer (its rating and comment), beside the conversation's messages. */
  feedback: (sub: string, conversationId: string, messageId: string) => ({
    pk: keys.userPartition(sub),
    sk: `FEEDBACK#${conversationId}#${messageId}`,
  }),
  feedbackPrefix: (conversationId: string) => `FEEDBACK#${conversationId}#`,
  /** GSI1 partition of every user's feedback rated on one UTC day (YYYY-MM-DD): the admin feedback list. */
  feedbackIndex: (day: string) => `FEEDBACK#${day}`,
  /** A conversation's share link (one per conversation), in its owner's partition. */
  share: (sub: string, conversationId: string) => ({
    pk: keys.userPartition(sub),
    sk: `SHARE#${conversationId}`,
  }),
  sharePrefix: 'SHARE#',
  /**
   * The public side of a share link, outside every user's partition: what `GET /v1/shared/{id}` reads without a
   * token. Erasure and revocation delete it with the owner's `SHARE#` item.
   */
  sharedSnapshot: (shareId: string) => ({ pk: `SHARED#${shareId}`, sk: 'SHARED' }),
  /** Requests per minute (YYYY-MM-DDTHH:MM) to the public share route from one client address (its hash). */
  sharedReadQuota: (addressHash: string, minute: string) => ({
    pk: `ADDRESS#${addressHash}`,
    sk: `QUOTA#SHARED#${minute}`,
  }),
  /** The user's settings (custom instructions, default model): one item (lambdas/settings). */
  settings: (sub: string) => ({ pk: keys.userPartition(sub), sk: 'SETTINGS' }),
  /**
   * Search index: one item per word and conversation (`SRCH#<term>#<conversation id>`), holding a snippet of the
   * text the word was first seen in; a word prefix is one Query (lambdas/search).
   */
  searchTerm: (sub: string, term: string, conversationId: string) => ({
    pk: keys.userPartition(sub),
    sk: `SRCH#${term}#${conversationId}`,
  }),
  searchTermPrefix: (termPrefix: string) => `SRCH#${termPrefix}`,
  /** The words a conversation has in the index (bounded): later messages write only new words; deletion reads it. */
  searchTerms: (sub: string, conversationId: string) => ({
    pk: keys.userPartition(sub),
    sk: `SRCHSET#${conversationId}`,
  }),
  /** A stored response of the Responses API: where its answer is in the conversation, and what was asked. */
  response: (sub: string, responseId: string) => ({ pk: keys.userPartition(sub), sk: `RESP#${responseId}` }),
  responsePrefix: 'RESP#',
  /** Where a stored response's output item is (its message id → the response): `item_reference` inputs. */
  responseItem: (sub: string, itemId: string) => ({ pk: keys.userPartition(sub), sk: `RESPITEM#${itemId}` }),
  /** GSI1 partition for a user's conversation list. */
  conversationsIndex: (sub: string) => `CONVS#${sub}`,
} as const;
