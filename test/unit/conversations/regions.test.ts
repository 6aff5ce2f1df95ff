import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import {
  allMessages,
  appendAnswerProgress,
  type ConversationStore,
  createConversation,
  getMessageAt,
  newMessageId,
  putMessage,
  requestStop,
  type StoredMessage,
} from '../../../lambdas/conversations/store';
import { startTable, TABLE_NAME, type TestTable } from '../chat/harness';

let table: TestTable;
let east: ConversationStore;
let west: ConversationStore;
beforeAll(async () => {
  table = await startTable();
  east = { db: table.db, tableName: TABLE_NAME, retentionDays: 0, region: 'us-east-1' };
  west = { ...east, region: 'eu-west-1' };
});
afterAll(async () => table.close());

const sub = () => `user-${crypto.randomUUID()}`;

function message(conversationId: string, sequence: number, content: string): StoredMessage {
  return {
    messageId: newMessageId(),
    conversationId,
    sequence,
    role: 'user',
    content,
    createdAt: new Date().toISOString(),
    status: 'complete',
  };
}

describe('messages written in two regions', () => {
  it('keep both when the regions took the same sequence number, in sequence order', async () => {
    const owner = sub();
    const { conversationId } = await createConversation(east, owner, { title: 'Two regions' });
    // Both regions reserved sequence 1 before either saw the other's reservation (region-local conditions).
    await putMessage(east, owner, message(conversationId, 0, 'first'));
    await putMessage(west, owner, message(conversationId, 1, 'from the west'));
    await putMessage(east, owner, message(conversationId, 1, 'from the east'));
    await putMessage(east, owner, message(conversationId, 2, 'after both'));

    const stored = await allMessages(east, owner, conversationId);

    expect(stored.map((stored) => [stored.content, stored.region])).toEqual([
      ['first', 'us-east-1'],
      ['from the west', 'eu-west-1'],
      ['from the east', 'us-east-1'],
      ['after both', 'us-east-1'],
    ]);
  });

  it('read, progress and stop the answer of their own region at a shared sequence', async () => {
    const owner = sub();
    const { conversationId } = await createConversation(east, owner, { title: 'Generating' });
    const answer = {
      ...message(conversationId, 3, ''),
      role: 'assistant' as const,
      status: 'generating' as const,
    };
    await putMessage(east, owner, { ...answer, chunks: [], progressWrites: 1 });
    await putMessage(west, owner, { ...message(conversationId, 3, 'west question') });

    await appendAnswerProgress(
      east,
      owner,
      { ...answer, region: 'us-east-1' },
      { content: 'Hel', chunk: 'Hel' },
    );
    const stored = await getMessageAt(east, owner, conversationId, 3, 'us-east-1');
    const stopped = await requestStop(east, owner, { conversationId, sequence: 3, region: 'us-east-1' });

    expect(stored).toMatchObject({ content: 'Hel', chunks: ['Hel'], status: 'generating' });
    expect(stopped).toBe(true);
    expect((await getMessageAt(west, owner, conversationId, 3, 'eu-west-1'))?.content).toBe('west question');
  });

  it('still read messages stored before the region was part of the key, in place', async () => {
    const owner = sub();
    const { conversationId } = await createConversation(east, owner, { title: 'Older' });
    const older = message(conversationId, 0, 'stored before');
    await table.db.send(
      new PutCommand({
        TableName: TABLE_NAME,
        Item: { ...keys.message(owner, conversationId, 0), type: 'message', ...older },
      }),
    );
    await putMessage(east, owner, message(conversationId, 1, 'stored after'));

    const stored = await allMessages(east, owner, conversationId);

    expect(stored.map((message) => message.content)).toEqual(['stored before', 'stored after']);
    expect((await getMessageAt(east, owner, conversationId, 0))?.content).toBe('stored before');
  });
});
