import type { KinesisClient, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { type AnalyticsEvent, AnalyticsEventSchema, MAX_EVENT_BYTES } from '../contracts/events';
import { logger } from '../shared/powertools';

/** PutRecords limits: 500 records and 5 MB (data + partition keys) per request. */
export const MAX_RECORDS_PER_PUT = 500;
export const MAX_BYTES_PER_PUT = 5 * 1024 * 1024;

export interface EventEmitterOptions {
  /** The client, or how to load it on the first emit (keeps the Kinesis SDK off a handler's cold start). */
  readonly kinesis: KinesisClient | (() => Promise<KinesisClient>);
  readonly streamName: string;
  /** Attempts per record, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** Backoff before the first retry; doubles per attempt, with full jitter. @default 50 */
  readonly baseDelayMs?: number;
  /** Cap on one backoff. @default 2000 */
  readonly maxDelayMs?: number;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface EmitResult {
  /** Events Kinesis accepted. */
  readonly emitted: number;
  /** Events still rejected after every attempt (throttling, stream unavailable). */
  readonly failed: readonly AnalyticsEvent[];
  /** Events that broke the schema or the size limit and were never sent (a producer bug). */
  readonly invalid: number;
}

export interface EventEmitter {
  /**
   * Sends events in `PutRecords` batches, retrying only the records Kinesis rejected. Never rejects: it is
   * called off the hot path (after the response was sent), so failures are logged and returned, not thrown.
   */
  emitEvents(events: readonly AnalyticsEvent[]): Promise<EmitResult>;
}

interface PendingRecord {
  readonly event: AnalyticsEvent;
  readonly entry: PutRecordsRequestEntry;
  readonly bytes: number;
}

const encoder = new TextEncoder();
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Creates the analytics event emitter for one stream; the partition key is the user's sub. */
export function createEventEmitter(options: EventEmitterOptions): EventEmitter {
  const { kinesis, streamName } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 50;
  const maxDelayMs = options.maxDelayMs ?? 2000;
  const sleep = options.sleep ?? defaultSleep;
  let loaded: Promise<KinesisClient> | undefined;
  const kinesisOf = () => {
    loaded ??= typeof kinesis === 'function' ? kinesis() : Promise.resolve(kinesis);
    return loaded;
  };

  /** Sends one batch; returns the records to retry (rejected ones, or all of them if the call failed). */
  async function putBatch(batch: readonly PendingRecord[]): Promise<PendingRecord[]> {
    try {
      // Loaded on first use; already in memory for every handler that created a Kinesis client.
      const [{ PutRecordsCommand }, client] = await Promise.all([
        import('@aws-sdk/client-kinesis'),
        kinesisOf(),
      ]);
      const output = await client.send(
        new PutRecordsCommand({ StreamName: streamName, Records: batch.map((record) => record.entry) }),
      );
      if (!output.FailedRecordCount) return [];
      // Results come back in request order; a failed entry carries an ErrorCode instead of a SequenceNumber.
      return batch.filter((_, index) => {
        const result = output.Records?.[index];
        return result === undefined || result.ErrorCode !== undefined;
      });
    } catch (error) {
      logger.warn('PutRecords call failed', { error: error as Error, records: batch.length });
      return [...batch];
    }
  }

  async function emitEvents(events: readonly AnalyticsEvent[]): Promise<EmitResult> {
    let invalid = 0;
    let pending: PendingRecord[] = [];
    for (const event of events) {
      const parsed = AnalyticsEventSchema.safeParse(event);
      const data = encoder.encode(JSON.stringify(event));
      if (!parsed.success || data.byteLength > MAX_EVENT_BYTES) {
        invalid += 1;
        logger.error('analytics event dropped: invalid', {
          eventType: event.type,
          issues: parsed.success
            ? [`${data.byteLength} bytes`]
            : parsed.error.issues.map((issue) => issue.message),
        });
        continue;
      }
      const partitionKey = event.sub;
      pending.push({
        event,
        entry: { Data: data, PartitionKey: partitionKey },
        bytes: data.byteLength + encoder.encode(partitionKey).byteLength,
      });
    }

    const total = pending.length;
    for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt += 1) {
      if (attempt > 1) {
        const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 2));
        await sleep(Math.random() * ceiling);
      }
      const retry: PendingRecord[] = [];
      for (const batch of batches(pending)) retry.push(...(await putBatch(batch)));
      pending = retry;
    }

    if (pending.length > 0) {
      logger.error('analytics events lost after retries', { failed: pending.length, attempts: maxAttempts });
    }
    return { emitted: total - pending.length, failed: pending.map((record) => record.event), invalid };
  }

  return { emitEvents };
}

/** Splits records into PutRecords-sized batches (count and bytes). */
function* batches(records: readonly PendingRecord[]): Generator<PendingRecord[]> {
  let batch: PendingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    if (batch.length === MAX_RECORDS_PER_PUT || bytes + record.bytes > MAX_BYTES_PER_PUT) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(record);
    bytes += record.bytes;
  }
  if (batch.length > 0) yield batch;
}
