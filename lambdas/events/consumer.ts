import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { type AnalyticsEvent, AnalyticsEventSchema } from '../contracts/events';
import { logger } from '../shared/powertools';

/** Where a Kinesis record sits: its shard and its sequence number there. */
export interface RecordPosition {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Kinesis record ids are `<shardId>:<sequenceNumber>`. */
export function positionOf(record: KinesisStreamRecord): RecordPosition {
  const separator = record.eventID.lastIndexOf(':');
  return {
    shardId: separator > 0 ? record.eventID.slice(0, separator) : record.eventID,
    sequenceNumber: record.kinesis.sequenceNumber,
  };
}

/** Sequence numbers are decimal strings of varying length: padded, they compare as strings in numeric order. */
export function sortableSequence(sequenceNumber: string): string {
  return sequenceNumber.padStart(128, '0');
}

/** Decodes an analytics event, or `undefined` (logged) for a record no retry could ever parse. */
export function decodeEvent(record: KinesisStreamRecord): AnalyticsEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
  } catch {
    value = undefined;
  }
  const parsed = AnalyticsEventSchema.safeParse(value);
  if (!parsed.success) {
    // Retrying cannot fix a malformed record and would block the shard: skip it, loudly.
    logger.error('skipping a malformed analytics record', { eventId: record.eventID });
    return undefined;
  }
  return parsed.data;
}

export type EventHandler = (event: AnalyticsEvent, position: RecordPosition) => Promise<void>;

/**
 * A Kinesis consumer with partial batch failure: records are handled in order, and after the first failure the
 * rest of the batch is reported failed without being attempted. Lambda resumes from the lowest failed sequence
 * number, so nothing after a failure may be applied out of order (the usage aggregator's per-shard checkpoints
 * rely on it).
 */
export function createEventConsumer(handleEvent: EventHandler) {
  return async (event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> => {
    const processor = new BatchProcessor(EventType.KinesisDataStreams);
    let failedEarlier = false;
    const recordHandler = async (record: KinesisStreamRecord) => {
      if (failedEarlier) throw new Error('not attempted: an earlier record of the batch failed');
      try {
        const decoded = decodeEvent(record);
        if (decoded !== undefined) await handleEvent(decoded, positionOf(record));
      } catch (error) {
        failedEarlier = true;
        throw error;
      }
    };
    return processPartialResponse(event, recordHandler, processor, {
      processInParallel: false,
      ...(context === undefined ? {} : { context }),
    });
  };
}
