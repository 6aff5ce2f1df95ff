import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import { TABLE } from '../contracts/table';
import { type ConversationStore, expiresAtFor, writeBatches } from '../conversations/store';
import { distinctTerms, SEARCH_LIMITS, snippetAround } from './terms';

/**
 * The write side of the search index: per user and conversation, one item per word (`SRCH#<word>#<conversation>`)
 * holding a snippet of the text the word was first seen in, and one word-set item (`SRCHSET#<conversation>`) that
 * lists the words indexed so far. A message reads the set (one GetItem) and writes only the words it is the first
 * to use — at most `maxTermsPerText` puts — so a long conversation costs little more than its vocabulary.
 */

export type TermSource = 'title' | 'message';

interface TermSet {
  readonly terms: ReadonlySet<string>;
  /** Words whose item came from the title (a rename removes the ones the new title no longer has). */
  readonly titleTerms: ReadonlySet<string>;
}

interface FreshTerm {
  readonly snippet: string;
  readonly source: TermSource;
}

async function readTermSet(store: ConversationStore, sub: string, conversationId: string): Promise<TermSet> {
  const result = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.searchTerms(sub, conversationId) }),
  );
  const asSet = (value: unknown) => (value instanceof Set ? (value as Set<string>) : new Set<string>());
  return { terms: asSet(result.Item?.terms), titleTerms: asSet(result.Item?.titleTerms) };
}

/** Puts the word items, then records the words in the set (a crash between the two only re-puts them later). */
async function addTerms(
  store: ConversationStore,
  sub: string,
  conversationId: string,
  fresh: ReadonlyMap<string, FreshTerm>,
): Promise<void> {
  if (fresh.size === 0) return;
  const expiresAt = expiresAtFor(store);
  await writeBatches(
    store,
    [...fresh].map(([term, { snippet, source }]) => ({
      PutRequest: {
        Item: {
          ...keys.searchTerm(sub, term, conversationId),
          type: 'search_term',
          conversationId,
          snippet,
          source,
          ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: expiresAt }),
        },
      },
    })),
  );
  const titleTerms = [...fresh].filter(([, term]) => term.source === 'title').map(([term]) => term);
  await store.db.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: keys.searchTerms(sub, conversationId),
      UpdateExpression: `ADD terms :terms${titleTerms.length > 0 ? ', titleTerms :titleTerms' : ''} SET #type = :type${expiresAt === undefined ? '' : ', #ttl = :ttl'}`,
      ExpressionAttributeNames: {
        '#type': 'type',
        ...(expiresAt === undefined ? {} : { '#ttl': TABLE.ttlAttribute }),
      },
      ExpressionAttributeValues: {
        ':terms': new Set(fresh.keys()),
        ':type': 'search_terms',
        ...(titleTerms.length > 0 ? { ':titleTerms': new Set(titleTerms) } : {}),
        ...(expiresAt === undefined ? {} : { ':ttl': expiresAt }),
      },
    }),
  );
}

/** Words of `text` the conversation does not have yet, within the per-text and per-conversation bounds. */
function collectFresh(fresh: Map<string, FreshTerm>, known: TermSet, text: string, source: TermSource): void {
  for (const word of distinctTerms(text)) {
    if (known.terms.size + fresh.size >= SEARCH_LIMITS.maxTermsPerConversation) return;
    if (known.terms.has(word.term) || fresh.has(word.term)) continue;
    fresh.set(word.term, { snippet: snippetAround(text, word.start, word.end), source });
  }
}

/** Indexes the words of new messages of a conversation (a turn's question and answer). */
export async function indexMessages(
  store: ConversationStore,
  sub: string,
  conversationId: string,
  texts: readonly string[],
): Promise<number> {
  const known = await readTermSet(store, sub, conversationId);
  const fresh = new Map<string, FreshTerm>();
  for (const text of texts) collectFresh(fresh, known, text, 'message');
  await addTerms(store, sub, conversationId, fresh);
  return fresh.size;
}

/**
 * Indexes a conversation's new title: words only the old title had are removed (their items and set entries),
 * words new to the conversation are added with the title as their snippet. A word already found in a message
 * keeps its message snippet.
 */
export async function indexTitle(
  store: ConversationStore,
  sub: string,
  conversationId: string,
  title: string,
): Promise<void> {
  const known = await readTermSet(store, sub, conversationId);
  const words = new Set(distinctTerms(title).map((word) => word.term));
  const stale = [...known.titleTerms].filter((term) => !words.has(term));
  if (stale.length > 0) {
    await writeBatches(
      store,
      stale.map((term) => ({ DeleteRequest: { Key: keys.searchTerm(sub, term, conversationId) } })),
    );
    await store.db.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.searchTerms(sub, conversationId),
        UpdateExpression: 'DELETE terms :stale, titleTerms :stale',
        ExpressionAttributeValues: { ':stale': new Set(stale) },
      }),
    );
  }
  const remaining: TermSet = {
    terms: new Set([...known.terms].filter((term) => !stale.includes(term))),
    titleTerms: new Set(),
  };
  const fresh = new Map<string, FreshTerm>();
  collectFresh(fresh, remaining, title, 'title');
  await addTerms(store, sub, conversationId, fresh);
}

/** Removes a conversation from the index: its word items, then its word set. */
export async function removeFromIndex(
  store: ConversationStore,
  sub: string,
  conversationId: string,
): Promise<void> {
  const known = await readTermSet(store, sub, conversationId);
  await writeBatches(store, [
    ...[...known.terms].map((term) => ({
      DeleteRequest: { Key: keys.searchTerm(sub, term, conversationId) },
    })),
    { DeleteRequest: { Key: keys.searchTerms(sub, conversationId) } },
  ]);
}
