import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import { allMessages, type ConversationStore, toConversation } from '../conversations/store';
import { indexMessages, indexTitle, removeFromIndex } from './index-store';

/**
 * Rebuilds a user's search index from their conversations: each conversation's index is removed, then its
 * messages are indexed in order (as the turns would have) and a written or chosen title after them. Used for
 * conversations stored before the index existed, or to repair it; idempotent.
 */
export async function rebuildUserIndex(store: ConversationStore, sub: string): Promise<number> {
  let conversations = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.conversationsIndex(sub) },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const conversation = toConversation(item);
      await removeFromIndex(store, sub, conversation.conversationId);
      const messages = await allMessages(store, sub, conversation.conversationId);
      // Two at a time, as a turn writes its question and answer.
      for (let index = 0; index < messages.length; index += 2)
        await indexMessages(
          store,
          sub,
          conversation.conversationId,
          messages.slice(index, index + 2).map((message) => message.content),
        );
      if (conversation.titleSource !== undefined)
        await indexTitle(store, sub, conversation.conversationId, conversation.title);
      conversations++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return conversations;
}
