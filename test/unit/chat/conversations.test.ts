import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import {
  type ConversationStore,
  createConversation,
  newMessageId,
  putMessage,
} from '../../../lambdas/conversations/store';
import { apiEvent, lambdaContext, startTable, TABLE_NAME, type TestTable, useTable } from './harness';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let table: TestTable;
let deps: ConversationStore;
let conversations: Handler;
let me: Handler;

beforeAll(async () => {
  table = await startTable();
  deps = { db: table.db, tableName: TABLE_NAME, retentionDays: 0 };
  useTable(table);
  conversations = (await import('../../../lambdas/conversations/handler')).handler as unknown as Handler;
  me = (await import('../../../lambdas/me/handler')).handler as unknown as Handler;
});
afterAll(async () => table.close());

const sub = () => `user-${crypto.randomUUID()}`;

async function seed(owner: string, title: string) {
  const conversation = await createConversation(deps, owner, { title });
  for (const [sequence, role] of (['user', 'assistant'] as const).entries()) {
    await putMessage(deps, owner, {
      messageId: newMessageId(),
      conversationId: conversation.conversationId,
      sequence,
      role,
      content: `${title} ${role}`,
      createdAt: new Date().toISOString(),
      status: 'complete',
    });
  }
  return conversation.conversationId;
}

const call = async (handler: Handler, init: Parameters<typeof apiEvent>[0]) => {
  const response = await handler(apiEvent(init), lambdaContext());
  return { status: response.statusCode, body: JSON.parse(response.body) };
};
const byId = (method: string, id: string, user: string, body?: unknown) =>
  call(conversations, {
    method,
    resource: '/v1/conversations/{id}',
    path: `/v1/conversations/${id}`,
    pathParameters: { id },
    sub: user,
    body: body === undefined ? null : JSON.stringify(body),
  });

describe('conversations handler', () => {
  it('gets a conversation with its messages', async () => {
    const owner = sub();
    const id = await seed(owner, 'Trip');
    const { status, body } = await byId('GET', id, owner);
    expect(status).toBe(200);
    expect(body).toMatchObject({ id, title: 'Trip', messages: [{ role: 'user' }, { role: 'assistant' }] });
  });

  it('answers 404 to another user reading, renaming or deleting', async () => {
    const id = await seed(sub(), 'Secret');
    const intruder = sub();
    for (const [method, body] of [['GET'], ['PATCH', { title: 'mine now' }], ['DELETE']] as const) {
      expect((await byId(method, id, intruder, body)).status).toBe(404);
    }
  });

  it('renames and deletes', async () => {
    const owner = sub();
    const id = await seed(owner, 'Old');
    expect((await byId('PATCH', id, owner, { title: '  New title ' })).body.title).toBe('New title');
    expect((await byId('DELETE', id, owner)).body).toEqual({
      id,
      object: 'conversation.deleted',
      deleted: true,
    });
    expect((await byId('GET', id, owner)).status).toBe(404);
  });

  it('rejects a patch with unknown fields, naming them', async () => {
    const owner = sub();
    const id = await seed(owner, 'x');
    const { status, body } = await byId('PATCH', id, owner, { title: 't', archived: true });
    expect(status).toBe(400);
    expect(body.error.param).toBe('archived');
  });

  it('lists newest first with a cursor', async () => {
    const owner = sub();
    for (const title of ['a', 'b', 'c']) {
      await seed(owner, title);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const list = (query: Record<string, string>) =>
      call(conversations, {
        method: 'GET',
        resource: '/v1/conversations',
        path: '/v1/conversations',
        sub: owner,
        query,
      });
    const first = await list({ limit: '2' });
    expect(first.body.data.map((item: { title: string }) => item.title)).toEqual(['c', 'b']);
    expect(first.body.has_more).toBe(true);
    const second = await list({ limit: '2', cursor: first.body.next_cursor });
    expect(second.body.data.map((item: { title: string }) => item.title)).toEqual(['a']);
    expect((await list({ cursor: 'not base64 json' })).status).toBe(400);
  });

  it('answers a malformed id with 404', async () => {
    expect((await byId('GET', '../../etc', sub())).status).toBe(404);
  });
});

describe('me handler', () => {
  it('exports only the caller’s data', async () => {
    const owner = sub();
    const other = sub();
    await seed(owner, 'Mine');
    await seed(other, 'Theirs');
    await table.db.send(
      new PutCommand({
        TableName: TABLE_NAME,
        Item: {
          ...keys.usage(owner, '2026-01-01'),
          date: '2026-01-01',
          requests: 3,
          tokensIn: 10,
          tokensOut: 20,
        },
      }),
    );
    const job = (jobOwner: string, jobId: string, question: string) =>
      table.db.send(
        new PutCommand({
          TableName: TABLE_NAME,
          Item: {
            ...keys.job(jobOwner, jobId),
            entity: 'job',
            jobId,
            sub: jobOwner,
            status: 'completed',
            request: { messages: [{ role: 'user', content: question }] },
            requestHash: 'h',
            createdAt: '2026-01-01T00:00:00.000Z',
            updatedAt: '2026-01-01T00:00:01.000Z',
            attempts: 1,
            result: { object: 'chat.completion', choices: [] },
          },
        }),
      );
    await job(owner, 'job_mine', 'Summarise my notes');
    await job(other, 'job_theirs', 'Theirs too');
    const { status, body } = await call(me, {
      method: 'GET',
      resource: '/v1/me/export',
      path: '/v1/me/export',
      sub: owner,
    });
    expect(status).toBe(200);
    expect(body.conversations).toHaveLength(1);
    expect(body.conversations[0].messages).toHaveLength(2);
    expect(body.jobs).toEqual([
      expect.objectContaining({
        id: 'job_mine',
        status: 'completed',
        request: { messages: [{ role: 'user', content: 'Summarise my notes' }] },
        result: { object: 'chat.completion', choices: [] },
      }),
    ]);
    expect(JSON.stringify(body)).not.toContain('Theirs');
    expect(body.usage).toEqual([
      { date: '2026-01-01', requests: 3, prompt_tokens: 10, completion_tokens: 20 },
    ]);
    expect(body.api_keys).toEqual([]);
    expect(body.files).toEqual([]);
  });

  it('reports usage per day with the limits', async () => {
    const owner = sub();
    const today = new Date().toISOString().slice(0, 10);
    await table.db.send(
      new PutCommand({
        TableName: TABLE_NAME,
        Item: { ...keys.usage(owner, today), date: today, requests: 2, tokensIn: 5, tokensOut: 7 },
      }),
    );
    const { body } = await call(me, {
      method: 'GET',
      resource: '/v1/me/usage',
      path: '/v1/me/usage',
      sub: owner,
    });
    expect(body.days).toEqual([{ date: today, requests: 2, prompt_tokens: 5, completion_tokens: 7 }]);
    expect(body.limits.requests_per_minute).toBeGreaterThan(0);
  });

  it('erases everything, idempotently, and leaves others alone', async () => {
    const owner = sub();
    const other = sub();
    await seed(owner, 'Mine');
    const theirs = await seed(other, 'Theirs');
    const erase = () => call(me, { method: 'DELETE', resource: '/v1/me', path: '/v1/me', sub: owner });
    expect((await erase()).body.deleted).toBe(true);
    expect((await erase()).status).toBe(200);
    const exported = await call(me, {
      method: 'GET',
      resource: '/v1/me/export',
      path: '/v1/me/export',
      sub: owner,
    });
    expect(exported.body.conversations).toEqual([]);
    expect((await byId('GET', theirs, other)).status).toBe(200);
  });
});
