import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import {
  allMessages,
  type ConversationStore,
  createConversation,
  deleteConversation,
  getConversation,
  listConversations,
  newMessageId,
  putMessage,
  recentMessages,
  requireConversation,
  reserveSequences,
  type StoredMessage,
  updateConversation,
} from '../../../lambdas/conversations/store';
import { NotFoundError, ValidationError } from '../../../lambdas/shared/errors';
import { startTable, TABLE_NAME, type TestTable } from '../chat/harness';

let table: TestTable;
let deps: ConversationStore;
beforeAll(async () => {
  table = await startTable();
  deps = { db: table.db, tableName: TABLE_NAME, retentionDays: 0 };
});
afterAll(async () => table.close());

const sub = () => `user-${crypto.randomUUID()}`;

function message(
  conversationId: string,
  sequence: number,
  content: string,
  role: 'user' | 'assistant' = 'user',
): StoredMessage {
  return {
    messageId: newMessageId(),
    conversationId,
    sequence,
    role,
    content,
    createdAt: new Date().toISOString(),
    status: 'complete',
  };
}

describe('conversations', () => {
  it('are invisible to other users: their ids answer 404', async () => {
    const owner = sub();
    const conversation = await createConversation(deps, owner, { title: 'Mine' });
    await expect(requireConversation(deps, sub(), conversation.conversationId)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect((await requireConversation(deps, owner, conversation.conversationId)).title).toBe('Mine');
  });

  it('hand out disjoint, ordered sequence ranges to concurrent writers', async () => {
    const owner = sub();
    const conversation = await createConversation(deps, owner, { title: 't' });
    const reservations = await Promise.all(
      Array.from({ length: 5 }, () => reserveSequences(deps, owner, conversation, 2, 1)),
    );
    const firsts = reservations.map((reservation) => reservation.firstSequence).sort((a, b) => a - b);
    expect(firsts).toEqual([0, 2, 4, 6, 8]);
    const stored = await requireConversation(deps, owner, conversation.conversationId);
    expect(stored).toMatchObject({ messageCount: 10, turnCount: 5, version: 5 });
  });

  it('never overwrite a message already stored at a sequence', async () => {
    const owner = sub();
    const conversation = await createConversation(deps, owner, { title: 't' });
    await putMessage(deps, owner, message(conversation.conversationId, 0, 'first'));
    await expect(
      putMessage(deps, owner, message(conversation.conversationId, 0, 'second')),
    ).rejects.toThrow();
    const [stored] = await allMessages(deps, owner, conversation.conversationId);
    expect(stored?.content).toBe('first');
  });

  it('return the newest messages oldest first', async () => {
    const owner = sub();
    const conversation = await createConversation(deps, owner, { title: 't' });
    for (let sequence = 0; sequence < 6; sequence++) {
      await putMessage(deps, owner, message(conversation.conversationId, sequence, `m${sequence}`));
    }
    const recent = await recentMessages(deps, owner, conversation.conversationId, 3);
    expect(recent.map((item) => item.content)).toEqual(['m3', 'm4', 'm5']);
  });

  it('list newest first in pages with an opaque cursor', async () => {
    const owner = sub();
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push((await createConversation(deps, owner, { title: `c${index}` })).conversationId);
      await new Promise((resolve) => setTimeout(resolve, 2)); // distinct updatedAt timestamps
    }
    const first = await listConversations(deps, owner, { limit: 2 });
    const second = await listConversations(deps, owner, { limit: 2, cursor: first.nextCursor ?? undefined });
    const third = await listConversations(deps, owner, { limit: 2, cursor: second.nextCursor ?? undefined });
    const titles = [...first.conversations, ...second.conversations, ...third.conversations].map(
      (c) => c.title,
    );
    expect(titles).toEqual(['c4', 'c3', 'c2', 'c1', 'c0']);
    expect(third.nextCursor).toBeNull();
  });

  it('reject a cursor minted for another user', async () => {
    const owner = sub();
    for (let index = 0; index < 3; index++) await createConversation(deps, owner, { title: `c${index}` });
    const page = await listConversations(deps, owner, { limit: 1 });
    await expect(
      listConversations(deps, sub(), { limit: 1, cursor: page.nextCursor ?? '' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('rename with a version check and delete with their messages', async () => {
    const owner = sub();
    const conversation = await createConversation(deps, owner, { title: 'old' });
    await putMessage(deps, owner, message(conversation.conversationId, 0, 'hello'));
    const renamed = await updateConversation(deps, owner, conversation.conversationId, { title: 'new' });
    expect(renamed).toMatchObject({ title: 'new', version: 1 });
    await deleteConversation(deps, owner, conversation.conversationId);
    expect(await getConversation(deps, owner, conversation.conversationId)).toBeUndefined();
    const leftover = await table.db.send(
      new GetCommand({ TableName: TABLE_NAME, Key: keys.message(owner, conversation.conversationId, 0) }),
    );
    expect(leftover.Item).toBeUndefined();
  });
});

describe('the active branch', () => {
  it("is the reserving turn's answer, and a switch changes only it", async () => {
    const owner = sub();
    const created = await createConversation(deps, owner, {
      title: 't',
      reserve: { count: 2, userTurns: 1 },
      currentMessageId: 'msg_first',
    });
    expect(created.currentMessageId).toBe('msg_first');
    const reserved = await reserveSequences(deps, owner, created, 1, 0, 'msg_second');
    expect(reserved.conversation).toMatchObject({ currentMessageId: 'msg_second', messageCount: 3 });

    const switched = await updateConversation(deps, owner, created.conversationId, {
      currentMessageId: 'msg_first',
    });

    expect(switched).toMatchObject({ currentMessageId: 'msg_first', title: 't', messageCount: 3 });
    expect(await requireConversation(deps, owner, created.conversationId)).toMatchObject({
      currentMessageId: 'msg_first',
    });
  });
});
