/**
 * With message retention on (MESSAGE_RETENTION_DAYS), a rating expires with the answers it rates: the real
 * handler, in this process, against the local table.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import {
  type ConversationStore,
  createConversation,
  newMessageId,
  putMessage,
} from '../../../lambdas/conversations/store';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { type ApiHandler, apiEvent, lambdaContext, useStackEnvironment } from '../limits/harness';
import { stack } from '../setup/context';

let conversations: ApiHandler;
let store: ConversationStore;

beforeAll(async () => {
  useStackEnvironment({ MESSAGE_RETENTION_DAYS: '30' });
  ({ handler: conversations } = (await import('../../../lambdas/conversations/handler')) as unknown as {
    handler: ApiHandler;
  });
  store = {
    db: DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: stack().dynamodb,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      }),
    ),
    tableName: LOCAL_TABLE_NAME,
    retentionDays: 30,
  };
});

describe('a rating under message retention', () => {
  it('expires when its answer does', async () => {
    const sub = `retention-${randomUUID()}`;
    const [questionId, answerId] = [newMessageId(), newMessageId()];
    const { conversationId } = await createConversation(store, sub, {
      title: 'Kept 30 days',
      reserve: { count: 2, userTurns: 1 },
      currentMessageId: answerId,
    });
    const now = new Date().toISOString();
    const base = { conversationId, createdAt: now, status: 'complete' as const };
    await putMessage(store, sub, {
      ...base,
      messageId: questionId,
      sequence: 0,
      role: 'user',
      content: 'Hi',
      parentId: null,
    });
    await putMessage(store, sub, {
      ...base,
      messageId: answerId,
      sequence: 1,
      role: 'assistant',
      content: 'Hello',
      parentId: questionId,
    });

    const rated = await conversations(
      apiEvent(sub, 'POST', `/v1/conversations/${conversationId}/messages/${answerId}/feedback`, {
        rating: 'up',
      }),
      lambdaContext,
    );
    expect(rated.statusCode).toBe(200);

    const read = (key: { pk: string; sk: string }) =>
      store.db.send(new GetCommand({ TableName: LOCAL_TABLE_NAME, Key: key })).then((output) => output.Item);
    const answer = await read(keys.message(sub, conversationId, 1));
    const feedback = await read(keys.feedback(sub, conversationId, answerId));
    expect(typeof answer?.expiresAt).toBe('number');
    // Written a moment apart, with the same retention.
    expect(Math.abs(Number(feedback?.expiresAt) - Number(answer?.expiresAt))).toBeLessThan(120);
  });
});
