import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import {
  allMessages,
  type ConversationStore,
  claimRegeneration,
  createConversation,
  deleteConversation,
  getConversation,
  listConversations,
  newMessageId,
  putMessage,
  recentMessages,
  renameConversation,
  replaceMessage,
  requireConversation,
  reserveSequences,
  type StoredMessage,
} from '../../../lambdas/conversations/store';
import { ConflictError, NotFoundError, ValidationError } from '../../../lambdas/shared/errors';
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
    const renamed = await renameConversation(deps, owner, conversation.conversationId, 'new');
    expect(renamed).toMatchObject({ title: 'new', version: 1 });
    await deleteConversation(deps, owner, conversation.conversationId);
    expect(await getConversation(deps, owner, conversation.conversationId)).toBeUndefined();
    const leftover = await table.db.send(
      new GetCommand({ TableName: TABLE_NAME, Key: keys.message(owner, conversation.conversationId, 0) }),
    );
    expect(leftover.Item).toBeUndefined();
  });
});

describe('regenerated answers', () => {
  it('replace the stored answer in place, keeping one answer per question', async () => {
    const owner = sub();
    const created = await createConversation(deps, owner, {
      title: 't',
      reserve: { count: 2, userTurns: 1 },
    });
    const answer = message(created.conversationId, 1, 'old answer', 'assistant');
    await putMessage(deps, owner, message(created.conversationId, 0, 'question'));
    await putMessage(deps, owner, answer);

    const claimed = await claimRegeneration(deps, owner, created);
    await replaceMessage(
      deps,
      owner,
      message(created.conversationId, 1, 'new answer', 'assistant'),
      answer.messageId,
    );

    const stored = await allMessages(deps, owner, created.conversationId);
    expect(stored.map((item) => [item.role, item.content])).toEqual([
      ['user', 'question'],
      ['assistant', 'new answer'],
    ]);
    expect(claimed).toMatchObject({ version: created.version + 1, messageCount: 2, turnCount: 1 });
  });

  it('are not written over an answer that another request replaced first', async () => {
    const owner = sub();
    const created = await createConversation(deps, owner, {
      title: 't',
      reserve: { count: 2, userTurns: 1 },
    });
    const answer = message(created.conversationId, 1, 'old answer', 'assistant');
    await putMessage(deps, owner, answer);
    const winner = message(created.conversationId, 1, 'first regeneration', 'assistant');
    await replaceMessage(deps, owner, winner, answer.messageId);

    await expect(
      replaceMessage(
        deps,
        owner,
        message(created.conversationId, 1, 'second regeneration', 'assistant'),
        answer.messageId,
      ),
    ).rejects.toThrow();
    const [stored] = await allMessages(deps, owner, created.conversationId);
    expect(stored?.content).toBe('first regeneration');
  });

  it('refuse to claim a conversation changed since it was read', async () => {
    const owner = sub();
    const created = await createConversation(deps, owner, {
      title: 't',
      reserve: { count: 2, userTurns: 1 },
    });
    await reserveSequences(deps, owner, created, 2, 1);

    await expect(claimRegeneration(deps, owner, created)).rejects.toBeInstanceOf(ConflictError);
    expect(await requireConversation(deps, owner, created.conversationId)).toMatchObject({
      version: created.version + 1,
      messageCount: 4,
    });
  });
});

describe('retention', () => {
  it('stamps expiresAt on messages and hides expired items on read', async () => {
    const owner = sub();
    const retaining: ConversationStore = { ...deps, retentionDays: 30 };
    const conversation = await createConversation(retaining, owner, { title: 't' });
    await putMessage(retaining, owner, message(conversation.conversationId, 0, 'kept'));
    const stored = await table.db.send(
      new GetCommand({ TableName: TABLE_NAME, Key: keys.message(owner, conversation.conversationId, 0) }),
    );
    const expiresAt = stored.Item?.expiresAt as number;
    expect(expiresAt - Date.now() / 1000).toBeGreaterThan(29 * 86_400);

    // DynamoDB deletes expired items only eventually (the local emulator never): readers filter them.
    await table.db.send(
      new PutCommand({
        TableName: TABLE_NAME,
        Item: {
          ...keys.message(owner, conversation.conversationId, 1),
          type: 'message',
          ...message(conversation.conversationId, 1, 'expired'),
          expiresAt: Math.floor(Date.now() / 1000) - 10,
        },
      }),
    );
    const visible = await allMessages(retaining, owner, conversation.conversationId);
    expect(visible.map((item) => item.content)).toEqual(['kept']);
  });
});

describe('message items', () => {
  it('keep their metadata (everything but the text) within 1 KB', async () => {
    const owner = `user-${'x'.repeat(40)}`;
    const conversation = await createConversation({ ...deps, retentionDays: 30 }, owner, { title: 't' });
    const full: StoredMessage = {
      ...message(conversation.conversationId, 0, 'some answer text', 'assistant'),
      status: 'content_filter',
      model: 'a-fairly-long-model-identifier-with-a-version-suffix-v1.2.3',
      usage: { prompt_tokens: 123_456, completion_tokens: 4_096, total_tokens: 127_552 },
      finishReason: 'content_filter',
      moderation: { action: 'block', categories: ['prompt_injection', 'pii_card', 'blocklist', 'S10'] },
      latencyMs: 123_456,
      timeToFirstTokenMs: 12_345,
      requestId: crypto.randomUUID(),
    };
    await putMessage({ ...deps, retentionDays: 30 }, owner, full);
    const stored = await table.db.send(
      new GetCommand({ TableName: TABLE_NAME, Key: keys.message(owner, conversation.conversationId, 0) }),
    );
    const { content: _content, ...metadata } = stored.Item ?? {};
    // DynamoDB item size ≈ attribute names + values; JSON of the item is a close upper bound.
    const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
    expect(bytes).toBeLessThanOrEqual(1024);
  });
});
