import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import { TABLE } from '../contracts/table';
import { type ConversationStore, getMessageAt, isExpired, readMessage, type StoredMessage } from './store';

/**
 * Finding a branch anywhere in a long conversation without reading every message whole. A message names its
 * parent by id, and items are keyed by sequence, so the path to a message is found on the messages' links
 * (id, parent, sequence: a projection), read newest first one bounded page at a time and only as far back as the
 * path goes; then the path's newest messages are read whole by key.
 */

/**
 * Links read per page. A page costs what its items weigh (a projection does not make the read cheaper), so pages
 * only trade round trips: one Query per 1000 messages (DynamoDB caps a page at 1 MB read anyway).
 */
const LINKS_PAGE = 1000;
/** The first page when looking for one message by id: an answer being followed is among the newest. */
const FIRST_PAGE_BY_ID = 50;
/** Keys per BatchGetItem (DynamoDB's limit). */
const BATCH_GET_KEYS = 100;

interface Link {
  readonly messageId: string;
  /** Unset on a message stored before branches: it follows the message stored before it. */
  readonly parentId?: string | null;
  readonly sequence: number;
  /** The region that wrote it (part of its key); unset on messages stored before regions were. */
  readonly region?: string;
}

/** Where a message's item is: its sequence and the region that wrote it. */
type Place = Pick<Link, 'sequence' | 'region'>;
const placeKey = (place: Place) => `${place.sequence}#${place.region ?? ''}`;

/** The path from the root to `leafId`: its newest `limit` messages, oldest first. */
export interface BranchPath {
  /** False when `leafId` is not a message of the conversation. */
  readonly found: boolean;
  readonly path: StoredMessage[];
  /** False when the path has more messages than `limit` (the older ones were not read). */
  readonly complete: boolean;
}

/** One page of a conversation's links, newest first. */
async function linksPage(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
  start: Record<string, unknown> | undefined,
  limit: number = LINKS_PAGE,
) {
  return deps.db.send(
    new QueryCommand({
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': keys.userPartition(sub),
        ':prefix': keys.messagePrefix(conversationId),
      },
      ExpressionAttributeNames: { '#sequence': 'sequence', '#region': 'region', '#ttl': TABLE.ttlAttribute },
      ProjectionExpression: 'messageId, parentId, #sequence, #region, #ttl',
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
      ExclusiveStartKey: start,
    }),
  );
}

/** A message of the conversation by id (newest pages first: an answer being followed is found on the first). */
export async function findMessage(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
  messageId: string,
): Promise<StoredMessage | undefined> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await linksPage(deps, sub, conversationId, start, start ? LINKS_PAGE : FIRST_PAGE_BY_ID);
    const link = (page.Items ?? []).find((item) => item.messageId === messageId && !isExpired(item, deps));
    if (link) {
      const region = typeof link.region === 'string' ? link.region : undefined;
      return getMessageAt(deps, sub, conversationId, Number(link.sequence), region);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return undefined;
}

/**
 * Walks the parent chain from `leafId` to the root on the links, newest page first, keeping the newest `limit`
 * messages of the path; reads those whole. Stops at the root, or as soon as `limit` are found.
 */
export async function branchPathTo(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
  leafId: string,
  limit: number,
): Promise<BranchPath> {
  const places: Place[] = [];
  // The next message of the path to find: an id, or (after a message stored before branches) the one before it.
  let wanted: string | { readonly previous: true } = leafId;
  let start: Record<string, unknown> | undefined;
  let complete = false;
  scan: do {
    const page = await linksPage(deps, sub, conversationId, start);
    for (const item of page.Items ?? []) {
      if (isExpired(item, deps)) continue;
      const link = item as unknown as Link;
      const matches = typeof wanted === 'string' ? link.messageId === wanted : true;
      if (!matches) continue;
      places.push({ sequence: link.sequence, ...(link.region === undefined ? {} : { region: link.region }) });
      if (link.parentId === null) {
        complete = true;
        break scan;
      }
      if (places.length >= limit) break scan;
      wanted = link.parentId === undefined ? { previous: true } : link.parentId;
    }
    start = page.LastEvaluatedKey;
    // The oldest message was reached while following a message stored before branches: that was the root.
    if (!start && typeof wanted !== 'string') complete = true;
  } while (start);
  if (places.length === 0) return { found: false, path: [], complete: false };
  const path = await messagesAt(deps, sub, conversationId, places.reverse());
  return { found: true, path, complete };
}

/** Messages by place, in the order asked (a missing or expired one is left out). */
async function messagesAt(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
  places: readonly Place[],
): Promise<StoredMessage[]> {
  const byPlace = new Map<string, StoredMessage>();
  for (let index = 0; index < places.length; index += BATCH_GET_KEYS) {
    let pending: Record<string, unknown>[] = places
      .slice(index, index + BATCH_GET_KEYS)
      .map((place) => keys.message(sub, conversationId, place.sequence, place.region));
    // DynamoDB may leave keys unprocessed under load: asked again a bounded number of times.
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 8) throw new Error('DynamoDB kept keys unprocessed while reading a branch.');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      const result = await deps.db.send(
        new BatchGetCommand({
          RequestItems: { [deps.tableName]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      for (const item of result.Responses?.[deps.tableName] ?? []) {
        if (isExpired(item, deps)) continue;
        const message = readMessage(deps, item);
        byPlace.set(placeKey(message), message);
      }
      pending = (result.UnprocessedKeys?.[deps.tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return places.flatMap((place) => {
    const message = byPlace.get(placeKey(place));
    return message ? [message] : [];
  });
}
