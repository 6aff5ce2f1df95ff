/** The search index on dynalite: what is written with messages, titles and deletions, and what a search finds. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import {
  type ConversationStore,
  createConversation,
  newMessageId,
  putMessage,
  reserveSequences,
  updateConversation,
} from '../../../lambdas/conversations/store';
import { indexMessages, indexTitle, removeFromIndex } from '../../../lambdas/search/index-store';
import { rebuildUserIndex } from '../../../lambdas/search/rebuild';
import { searchConversations } from '../../../lambdas/search/search';
import { SEARCH_LIMITS } from '../../../lambdas/search/terms';
import { startTable, TABLE_NAME, type TestTable } from '../chat/harness';

let table: TestTable;
let store: ConversationStore;
const user = () => `user-${crypto.randomUUID()}`;

beforeAll(async () => {
  table = await startTable();
  store = { db: table.db, tableName: TABLE_NAME, retentionDays: 0 };
});
afterAll(async () => {
  await table.close();
});

async function conversationWith(sub: string, ...texts: string[]): Promise<string> {
  const { conversationId } = await createConversation(store, sub, { title: 'Untitled' });
  await indexMessages(store, sub, conversationId, texts);
  return conversationId;
}

async function indexItems(sub: string, prefix: string) {
  const page = await store.db.send(
    new QueryCommand({
      TableName: TABLE_NAME,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.userPartition(sub), ':prefix': prefix },
    }),
  );
  return page.Items ?? [];
}

const ids = (result: Awaited<ReturnType<typeof searchConversations>>) =>
  result.hits.map((hit) => hit.conversation.conversationId);

describe('searching a user’s conversations', () => {
  it('finds the conversations with every word, newest first, with a highlighted snippet', async () => {
    const sub = user();
    const older = await conversationWith(sub, 'How do I rotate the Postgres password?', 'Use ALTER ROLE.');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newer = await conversationWith(sub, 'Postgres vacuum settings', 'autovacuum is on by default');
    await conversationWith(sub, 'Something else entirely');

    const both = await searchConversations(store, sub, 'postgres', 20);
    expect(ids(both)).toEqual([newer, older]);
    const snippet = both.hits[0]?.snippet;
    expect(snippet?.highlights.map(({ start, end }) => snippet.text.slice(start, end))).toEqual(['Postgres']);
    expect(ids(await searchConversations(store, sub, 'postgres password ', 20))).toEqual([older]);
  });

  it('moves a conversation up when it gets a new turn', async () => {
    const sub = user();
    const first = await conversationWith(sub, 'terraform state');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await conversationWith(sub, 'terraform modules');
    const conversation = await updateConversation(store, sub, first, {});
    await reserveSequences(store, sub, conversation, 2, 1);
    expect(ids(await searchConversations(store, sub, 'terraform', 20))).toEqual([first, second]);
  });

  it('never finds another user’s conversations', async () => {
    const [owner, other] = [user(), user()];
    await conversationWith(owner, 'the zanzibar itinerary');
    expect((await searchConversations(store, other, 'zanzibar', 20)).hits).toEqual([]);
  });

  it('follows renames: a word only the old title had no longer matches', async () => {
    const sub = user();
    const id = await conversationWith(sub, 'numbers for the quarter');
    await updateConversation(store, sub, id, { title: 'Budget review' });
    await indexTitle(store, sub, id, 'Budget review');
    expect((await searchConversations(store, sub, 'budget', 20)).hits[0]?.snippet.source).toBe('title');
    await updateConversation(store, sub, id, { title: 'Spending' });
    await indexTitle(store, sub, id, 'Spending');
    expect((await searchConversations(store, sub, 'budget', 20)).hits).toEqual([]);
    expect(ids(await searchConversations(store, sub, 'spending', 20))).toEqual([id]);
    // A word the messages have keeps matching whatever the title says.
    expect(ids(await searchConversations(store, sub, 'quarter', 20))).toEqual([id]);
  });

  it('forgets a deleted conversation: no index item is left', async () => {
    const sub = user();
    const id = await conversationWith(sub, 'delete me later please');
    await removeFromIndex(store, sub, id);
    expect(await indexItems(sub, 'SRCH')).toEqual([]);
  });

  it('writes each word of a conversation once, and at most the conversation’s bound', async () => {
    const sub = user();
    const words = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => `w${from + index}`).join(' ');
    const { conversationId } = await createConversation(store, sub, { title: 't' });
    expect(await indexMessages(store, sub, conversationId, [words(0, 50)])).toBe(50);
    expect(await indexMessages(store, sub, conversationId, [words(0, 50)])).toBe(0);
    let added = 50;
    for (let from = 50; from < SEARCH_LIMITS.maxTermsPerConversation + 200; from += 100)
      added += await indexMessages(store, sub, conversationId, [words(from, 100)]);
    expect(added).toBe(SEARCH_LIMITS.maxTermsPerConversation);
  });

  it('is rebuilt from the stored messages and titles of conversations indexed before', async () => {
    const sub = user();
    const { conversationId } = await createConversation(store, sub, { title: 'First question' });
    for (const [sequence, content] of ['Where is the lighthouse?', 'On the northern cape.'].entries())
      await putMessage(store, sub, {
        messageId: newMessageId(),
        conversationId,
        sequence,
        role: sequence === 0 ? 'user' : 'assistant',
        content,
        createdAt: new Date().toISOString(),
        status: 'complete',
      });
    await updateConversation(store, sub, conversationId, { title: 'Coastal walks' });
    expect((await searchConversations(store, sub, 'lighthouse', 20)).hits).toEqual([]);
    expect(await rebuildUserIndex(store, sub)).toBe(1);
    expect(ids(await searchConversations(store, sub, 'lighthouse northern', 20))).toEqual([conversationId]);
    expect(ids(await searchConversations(store, sub, 'coastal', 20))).toEqual([conversationId]);
    // Idempotent: a second rebuild leaves the same index.
    const before = (await indexItems(sub, 'SRCH')).length;
    await rebuildUserIndex(store, sub);
    expect((await indexItems(sub, 'SRCH')).length).toBe(before);
  });

  it('refuses a query without a word, naming q', async () => {
    await expect(searchConversations(store, user(), ' ? a ', 20)).rejects.toMatchObject({
      statusCode: 400,
      param: 'q',
    });
  });
});
