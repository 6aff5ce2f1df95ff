import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type AnalyticsEvent, eventDay, USAGE_EVENT_TYPES } from '../contracts/events';
import { keys } from '../contracts/keys';
import { type RecordPosition, sortableSequence } from '../events/consumer';

/**
 * Per-user, per-day usage totals (`keys.usage(sub, day)`), counted exactly once per event without transactions:
 *
 * 1. A marker item per event id (`keys.usageEventMarker`) names the one Kinesis record allowed to count it. A
 *    producer that re-sent an event (same id, another record) finds the marker owned by the first record and
 *    is skipped; a redelivery of the owning record passes.
 * 2. The usage item is updated with `ADD`, conditional on that item's checkpoint for the record's shard being
 *    below the record's sequence number, and moves the checkpoint in the same write. A redelivered record
 *    (a retried batch, a crash after the write) fails the condition and is not counted again.
 *
 * Both steps are single-item conditional writes; a crash between them is harmless because the redelivered
 * record owns its marker and its sequence number is still above the checkpoint. This relies on a user's events
 * sharing one shard (partition key = sub) and on records being applied in order, stopping at the first failure
 * (`createEventConsumer`).
 */
export interface UsageDeps {
  readonly dynamo: DynamoDBDocumentClient;
  readonly tableName: string;
  /** How long an event-id marker is kept: longer than the stream's retention. @default 8 days */
  readonly markerTtlSeconds?: number;
  readonly now?: () => Date;
}

/** The usage item's counters; `GET /v1/me/usage` and the quota read these names. */
export interface UsageTotals {
  readonly requests: number;
  readonly tokensIn: number;
  readonly tokensOut: number;
}

export type AggregateOutcome = 'counted' | 'ignored' | 'duplicate-event' | 'already-counted';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export async function aggregateUsage(
  deps: UsageDeps,
  event: AnalyticsEvent,
  position: RecordPosition,
): Promise<AggregateOutcome> {
  if (!USAGE_EVENT_TYPES.has(event.type)) return 'ignored';
  const now = (deps.now ?? (() => new Date()))();
  const recordKey = `${position.shardId}/${position.sequenceNumber}`;
  const markerTtlSeconds = deps.markerTtlSeconds ?? 8 * 86_400;

  try {
    await deps.dynamo.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: {
          ...keys.usageEventMarker(event.eventId),
          entity: 'usage-marker',
          recordKey,
          expiresAt: Math.floor(now.getTime() / 1000) + markerTtlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR recordKey = :recordKey',
        ExpressionAttributeValues: { ':recordKey': recordKey },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) return 'duplicate-event';
    throw error;
  }

  const day = eventDay(event);
  // The owner's total, and the key's own when the request was made with a personal API key: each item keeps its
  // own checkpoint, so each counts the record once even when a crash fell between the two writes.
  const [owner] = await Promise.all([
    addOnce(deps, keys.usage(event.sub, day), event, position, day, now),
    ...(event.apiKeyId
      ? [addOnce(deps, keys.apiKeyUsage(event.sub, event.apiKeyId, day), event, position, day, now)]
      : []),
    ...(event.model
      ? [addOnce(deps, keys.modelUsage(event.sub, event.model, day), event, position, day, now, event.model)]
      : []),
  ]);
  return owner;
}

/** Adds the event to one usage item unless that item already counted this shard's record (or a later one). */
async function addOnce(
  deps: UsageDeps,
  key: { pk: string; sk: string },
  event: AnalyticsEvent,
  position: RecordPosition,
  day: string,
  now: Date,
  model?: string,
): Promise<'counted' | 'already-counted'> {
  try {
    await deps.dynamo.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: key,
        ConditionExpression: 'attribute_not_exists(#checkpoint) OR #checkpoint < :sequence',
        UpdateExpression:
          `SET #checkpoint = :sequence, entity = :entity, #date = :date, updatedAt = :now${model ? ', #model = :model' : ''} ` +
          'ADD requests :one, tokensIn :tokensIn, tokensOut :tokensOut',
        ExpressionAttributeNames: {
          '#checkpoint': `checkpoint#${position.shardId}`,
          '#date': 'date',
          ...(model ? { '#model': 'model' } : {}),
        },
        ExpressionAttributeValues: {
          ':sequence': sortableSequence(position.sequenceNumber),
          ':entity': model ? 'model-usage' : 'usage',
          ':date': day,
          ':now': now.toISOString(),
          ':one': 1,
          ':tokensIn': event.tokensIn ?? 0,
          ':tokensOut': event.tokensOut ?? 0,
          ...(model ? { ':model': model } : {}),
        },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) return 'already-counted';
    throw error;
  }
  return 'counted';
}
