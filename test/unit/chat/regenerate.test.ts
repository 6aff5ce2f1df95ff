import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import { createConversation, newMessageId, putMessage } from '../../../lambdas/conversations/store';
import type { FakeBehaviour, FakeModel } from '../inference/fake-model';
import {
  apiEvent,
  invokeStreaming,
  sseEvents,
  startChatHarness,
  TABLE_NAME,
  type TestTable,
} from './harness';

/** `regenerate: true` through the chat handler in process: dynalite and a fake model, as in handler.test.ts. */
let table: TestTable;
let model: FakeModel;
let handler: unknown;
let close: () => Promise<void>;
let plan: (body: Record<string, unknown>, index: number) => FakeBehaviour = () => ({
  kind: 'answer',
  tokens: ['Hi'],
});

beforeAll(async () => {
  ({ table, model, handler, close } = await startChatHarness((body, index) => plan(body, index)));
});
afterAll(() => close());

const sub = () => `user-${crypto.randomUUID()}`;

function chat(user: string, body: unknown, headers: Record<string, string> = {}) {
  return invokeStreaming(
    handler,
    apiEvent({
      method: 'POST',
      resource: '/v1/chat/completions',
      path: '/v1/chat/completions',
      sub: user,
      body: JSON.stringify(body),
      headers,
    }),
  );
}

async function partition(user: string) {
  const result = await table.db.send(
    new QueryCommand({
      TableName: TABLE_NAME,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.userPartition(user) },
    }),
  );
  return result.Items ?? [];
}

const messagesOf = async (user: string) =>
  (await partition(user))
    .filter((item) => item.type === 'message')
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
    .map((item) => [item.role, item.content]);

const conversationOf = async (user: string) =>
  (await partition(user)).find((item) => item.type === 'conversation');

/** A conversation with one answered question; returns its id. */
async function answered(user: string, question: string, answer: string): Promise<string> {
  plan = () => ({ kind: 'answer', tokens: [answer] });
  const response = await chat(user, { messages: [{ role: 'user', content: question }] });
  expect(response.statusCode).toBe(200);
  return JSON.parse(response.body).conversation_id;
}

describe('regenerating the last answer', () => {
  it('streams a new answer beside the stored one, asked with the question but not the old answer', async () => {
    const user = sub();
    const conversationId = await answered(user, 'Capital of France?', 'Paris.');
    plan = () => ({ kind: 'answer', tokens: ['Berlin', '.'] });
    await chat(user, {
      messages: [{ role: 'user', content: 'And of Germany?' }],
      conversation_id: conversationId,
    });
    const before = await conversationOf(user);

    plan = () => ({ kind: 'answer', tokens: ['It is ', 'Berlin.'] });
    const response = await chat(user, {
      messages: [],
      conversation_id: conversationId,
      regenerate: true,
      stream: true,
    });

    expect(response.statusCode).toBe(200);
    expect(response.headers['x-conversation-id']).toBe(conversationId);
    const chunks = sseEvents(response.body)
      .slice(0, -1)
      .map((data) => JSON.parse(data));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('It is Berlin.');
    const sent = model.requests.at(-1)?.messages as { role: string; content: string }[];
    expect(sent.slice(1).map((message) => [message.role, message.content])).toEqual([
      ['user', 'Capital of France?'],
      ['assistant', 'Paris.'],
      ['user', 'And of Germany?'],
    ]);
    expect(await messagesOf(user)).toEqual([
      ['user', 'Capital of France?'],
      ['assistant', 'Paris.'],
      ['user', 'And of Germany?'],
      ['assistant', 'Berlin.'],
      ['assistant', 'It is Berlin.'],
    ]);
    const stored = (await partition(user)).filter((item) => item.type === 'message');
    const question = stored.find((item) => item.content === 'And of Germany?');
    const answers = stored.filter((item) => item.parentId === question?.messageId);
    expect(answers.map((item) => item.content).sort()).toEqual(['Berlin.', 'It is Berlin.']);
    const newAnswer = answers.find((item) => item.content === 'It is Berlin.');
    expect(await conversationOf(user)).toMatchObject({
      messageCount: 5,
      turnCount: 2,
      version: Number(before?.version) + 1,
      currentMessageId: newAnswer?.messageId,
    });
  });

  it('returns the new answer as a chat.completion when not streamed, and the next turn builds on it', async () => {
    const user = sub();
    const conversationId = await answered(user, 'Name a colour.', 'Red.');
    plan = () => ({ kind: 'answer', tokens: ['Blue.'] });
    const response = await chat(user, { messages: [], conversation_id: conversationId, regenerate: true });
    expect(JSON.parse(response.body)).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { content: 'Blue.' }, finish_reason: 'stop' }],
      conversation_id: conversationId,
    });

    plan = () => ({ kind: 'answer', tokens: ['Green.'] });
    await chat(user, { messages: [{ role: 'user', content: 'Another?' }], conversation_id: conversationId });
    const sent = model.requests.at(-1)?.messages as { role: string; content: string }[];
    expect(sent.slice(1).map((message) => message.content)).toEqual(['Name a colour.', 'Blue.', 'Another?']);
  });

  it('replays a retried Idempotency-Key without answering again', async () => {
    const user = sub();
    const conversationId = await answered(user, 'Pick a number.', 'Seven.');
    const body = { messages: [], conversation_id: conversationId, regenerate: true };
    plan = () => ({ kind: 'answer', tokens: ['Three.'] });
    const first = await chat(user, body, { 'idempotency-key': 'regen-1' });
    plan = () => ({ kind: 'answer', tokens: ['Nine.'] });
    const second = await chat(user, body, { 'idempotency-key': 'regen-1' });

    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(JSON.parse(second.body).id).toBe(JSON.parse(first.body).id);
    expect(await messagesOf(user)).toEqual([
      ['user', 'Pick a number.'],
      ['assistant', 'Seven.'],
      ['assistant', 'Three.'],
    ]);
  });

  it('answers 400 naming `regenerate` when the last message is not an answer, and changes nothing', async () => {
    const user = sub();
    const context = { db: table.db, tableName: TABLE_NAME, retentionDays: 0 };
    const conversation = await createConversation(context, user, {
      title: 'Unanswered',
      reserve: { count: 1, userTurns: 1 },
    });
    await putMessage(context, user, {
      messageId: newMessageId(),
      conversationId: conversation.conversationId,
      sequence: 0,
      role: 'user',
      content: 'Hello?',
      createdAt: new Date().toISOString(),
      status: 'complete',
    });

    const response = await chat(user, {
      messages: [],
      conversation_id: conversation.conversationId,
      regenerate: true,
    });

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'regenerate',
      code: 'nothing_to_regenerate',
    });
    expect(await messagesOf(user)).toEqual([['user', 'Hello?']]);
    expect((await conversationOf(user))?.version).toBe(conversation.version);
  });

  it('answers 400 naming `regenerate` for a conversation without messages', async () => {
    const user = sub();
    const context = { db: table.db, tableName: TABLE_NAME, retentionDays: 0 };
    const conversation = await createConversation(context, user, { title: 'Empty' });
    const response = await chat(user, {
      messages: [],
      conversation_id: conversation.conversationId,
      regenerate: true,
    });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.param).toBe('regenerate');
  });

  it("answers 404 naming `conversation_id` for another user's conversation, and leaves it alone", async () => {
    const owner = sub();
    const conversationId = await answered(owner, 'Mine?', 'Yes.');
    const response = await chat(sub(), { messages: [], conversation_id: conversationId, regenerate: true });
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).error.param).toBe('conversation_id');
    expect(await messagesOf(owner)).toEqual([
      ['user', 'Mine?'],
      ['assistant', 'Yes.'],
    ]);
  });
});

describe('the regenerate contract', () => {
  it.each([
    ['regenerating without conversation_id', { messages: [], regenerate: true }, 'conversation_id'],
    [
      'regenerating with new messages',
      {
        messages: [{ role: 'user', content: 'Hi' }],
        conversation_id: `conv_${'0'.repeat(32)}`,
        regenerate: true,
      },
      'messages',
    ],
    ['no messages without regenerating', { messages: [] }, 'messages'],
    ['a regenerate flag that is not a boolean', { messages: [], regenerate: 'yes' }, 'regenerate'],
  ])('answers 400 naming the field for %s, and writes nothing', async (_case, body, param) => {
    const user = sub();
    const response = await chat(user, body);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toMatchObject({ type: 'invalid_request_error', param });
    expect(await partition(user)).toEqual([]);
  });
});
