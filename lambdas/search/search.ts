import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SearchSnippet } from '../contracts/api';
import { keys } from '../contracts/keys';
import {
  type ConversationRecord,
  type ConversationStore,
  isExpired,
  toConversation,
} from '../conversations/store';
import { ValidationError } from '../shared/errors';
import type { TermSource } from './index-store';
import { highlightsIn, type QueryTerm, queryTerms, SEARCH_LIMITS } from './terms';

/**
 * The read side of the search index. Query plan for `q` with words w1…wn (n ≤ 5):
 *   1. per word, one paginated Query `pk = USER#<sub> AND begins_with(sk, "SRCH#<w>#")` — for the last word, while
 *      it is being typed, `"SRCH#<w>"` (a prefix) — reading at most `maxItemsPerTerm` items → the conversations
 *      that have the word, with its snippets;
 *   2. the intersection: conversations that match every word;
 *   3. their order, newest first: up to `DIRECT_LOOKUP` (25) matches are read with one BatchGet of their conversation
 *      items; more are found by walking the conversation list (GSI1, newest first) until `limit` of them are seen.
 * Every read is bounded by the number of the user's conversations, never by the number of their messages.
 */

/**
 * Matches read directly by key (BatchGet costs a read unit per item); beyond this, walking the newest-first list
 * (a Query, charged by bytes) until `limit` matches are seen reads less.
 */
const DIRECT_LOOKUP = 25;
const LIST_PAGE = 250;

export interface SearchHit {
  readonly conversation: ConversationRecord;
  readonly snippet: SearchSnippet;
}

export interface SearchResult {
  readonly hits: readonly SearchHit[];
  readonly hasMore: boolean;
  /** Read capacity units the search consumed (as DynamoDB reports them). */
  readonly readUnits: number;
}

interface Snippet {
  readonly text: string;
  readonly source: TermSource;
}

class ReadMeter {
  units = 0;
  add(consumed: { CapacityUnits?: number } | readonly { CapacityUnits?: number }[] | undefined): void {
    for (const one of Array.isArray(consumed) ? consumed : consumed ? [consumed] : [])
      this.units += one.CapacityUnits ?? 0;
  }
}

/** Conversations with the word (or a word starting with it), each with the snippet of its first such word. */
async function matchesOf(
  store: ConversationStore,
  sub: string,
  { term, prefix }: QueryTerm,
  meter: ReadMeter,
): Promise<Map<string, Snippet>> {
  const matches = new Map<string, Snippet>();
  let read = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': keys.userPartition(sub),
          ':prefix': keys.searchTermPrefix(prefix ? term : `${term}#`),
        },
        ProjectionExpression: 'conversationId, snippet, #source, expiresAt',
        ExpressionAttributeNames: { '#source': 'source' },
        Limit: SEARCH_LIMITS.maxItemsPerTerm - read,
        ExclusiveStartKey: start,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    meter.add(page.ConsumedCapacity);
    for (const item of page.Items ?? []) {
      read++;
      if (isExpired(item, store)) continue;
      const id = String(item.conversationId);
      if (!matches.has(id))
        matches.set(id, {
          text: String(item.snippet ?? ''),
          source: item.source === 'title' ? 'title' : 'message',
        });
    }
    start = page.LastEvaluatedKey;
  } while (start && read < SEARCH_LIMITS.maxItemsPerTerm);
  return matches;
}

/** Conversation items by id (BatchGet, 100 keys per call, unprocessed keys asked again). */
async function conversationsById(
  store: ConversationStore,
  sub: string,
  ids: readonly string[],
  meter: ReadMeter,
): Promise<ConversationRecord[]> {
  const found: ConversationRecord[] = [];
  let pending = ids.map((id) => keys.conversation(sub, id));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 8) throw new Error('DynamoDB kept keys unprocessed while searching.');
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
    const batch = pending.slice(0, 100);
    const result = await store.db.send(
      new BatchGetCommand({
        RequestItems: { [store.tableName]: { Keys: batch } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    meter.add(result.ConsumedCapacity);
    for (const item of result.Responses?.[store.tableName] ?? [])
      if (!isExpired(item, store)) found.push(toConversation(item));
    const unprocessed = (result.UnprocessedKeys?.[store.tableName]?.Keys ?? []) as typeof pending;
    pending = [...unprocessed, ...pending.slice(100)];
  }
  return found;
}

/** Matching conversations in list order (pinned first, then newest first), read until `wanted` unpinned ones. */
async function walkList(
  store: ConversationStore,
  sub: string,
  matching: ReadonlySet<string>,
  wanted: number,
  meter: ReadMeter,
): Promise<ConversationRecord[]> {
  const found: ConversationRecord[] = [];
  let unpinned = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.conversationsIndex(sub) },
        ScanIndexForward: false,
        Limit: LIST_PAGE,
        ExclusiveStartKey: start,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    meter.add(page.ConsumedCapacity);
    for (const item of page.Items ?? []) {
      if (isExpired(item, store) || !matching.has(String(item.conversationId))) continue;
      const conversation = toConversation(item);
      found.push(conversation);
      if (!conversation.pinned) unpinned++;
    }
    start = page.LastEvaluatedKey;
  } while (start && unpinned < wanted && found.length < matching.size);
  return found;
}

/** The snippet showing the most of the query's words. */
function bestSnippet(candidates: readonly Snippet[], terms: readonly QueryTerm[]): SearchSnippet {
  let best: SearchSnippet = { text: '', highlights: [], source: 'message' };
  for (const candidate of candidates) {
    const highlights = highlightsIn(candidate.text, terms);
    if (highlights.length > best.highlights.length || best.text === '')
      best = { text: candidate.text, highlights, source: candidate.source };
  }
  return best;
}

/** The caller's conversations whose titles or messages have every word of `query`, newest first. */
export async function searchConversations(
  store: ConversationStore,
  sub: string,
  query: string,
  limit: number,
): Promise<SearchResult> {
  const terms = queryTerms(query);
  if (terms.length === 0)
    throw new ValidationError(
      `Expected at least one word of ${SEARCH_LIMITS.minTermChars} or more letters or digits.`,
      'q',
      'invalid_query',
    );
  const meter = new ReadMeter();
  const perTerm = await Promise.all(terms.map((term) => matchesOf(store, sub, term, meter)));
  const [smallest, ...others] = [...perTerm].sort((a, b) => a.size - b.size);
  const matching = new Set(
    [...(smallest ?? new Map()).keys()].filter((id) => others.every((matches) => matches.has(id))),
  );
  const conversations =
    matching.size <= DIRECT_LOOKUP
      ? await conversationsById(store, sub, [...matching], meter)
      : await walkList(store, sub, matching, limit + 1, meter);
  const ordered = conversations.sort((a, b) =>
    a.updatedAt === b.updatedAt
      ? b.conversationId.localeCompare(a.conversationId)
      : b.updatedAt.localeCompare(a.updatedAt),
  );
  const hits = ordered.slice(0, limit).map((conversation) => ({
    conversation,
    snippet: bestSnippet(
      perTerm.flatMap((matches) => {
        const snippet = matches.get(conversation.conversationId);
        return snippet ? [snippet] : [];
      }),
      terms,
    ),
  }));
  return { hits, hasMore: ordered.length > limit, readUnits: meter.units };
}
