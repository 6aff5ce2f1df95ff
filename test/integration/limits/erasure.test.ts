/**
 * `DELETE /v1/me` and `GET /v1/me/export` on the real handler and the local stack (table and bucket): erasure
 * removes every registered kind of user data — conversations, messages, jobs, usage, API keys, files and their
 * objects, stored responses, idempotency records — keeps the caller's limits, and its marker stops work that was in flight.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { EnvName } from '../../../lambdas/contracts/env';
import { keys } from '../../../lambdas/contracts/keys';
import { type ConversationStore, createConversation, putMessage } from '../../../lambdas/conversations/store';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { LOCAL_FILES } from '../../../scripts/local/files-resources';
import { localUserDataEnvironment } from '../../../scripts/local/user-data-resources';
import { filesDeps } from '../files/support';
import { stack } from '../setup/context';
import { type ApiHandler, apiEvent, lambdaContext, useStackEnvironment } from './harness';
import { message, seed } from './user-data-seed';

let me: ApiHandler;
let db: DynamoDBDocumentClient;
let store: ConversationStore;

beforeAll(async () => {
  useStackEnvironment({
    [EnvName.s3Endpoint]: stack().s3,
    [EnvName.filesBucketName]: LOCAL_FILES.bucket,
    [EnvName.sqsEndpoint]: stack().sqs,
    ...(await localUserDataEnvironment(stack())),
  });
  ({ handler: me } = (await import('../../../lambdas/me/handler')) as unknown as { handler: ApiHandler });
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack().dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  );
  store = { db, tableName: LOCAL_TABLE_NAME, retentionDays: 0 };
});

async function sortKeys(sub: string): Promise<string[]> {
  const page = await db.send(
    new QueryCommand({
      TableName: LOCAL_TABLE_NAME,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.userPartition(sub) },
      ConsistentRead: true,
    }),
  );
  return (page.Items ?? []).map((item) => String(item.sk)).sort();
}

describe('export', () => {
  it('includes the caller’s API keys (without secrets) and files with working download links', async () => {
    const sub = `export-${randomUUID()}`;
    const { apiKey, file, responseId } = await seed(db, store, sub);

    const answer = await me(apiEvent(sub, 'GET', '/v1/me/export'), lambdaContext);

    expect(answer.statusCode).toBe(200);
    const document = JSON.parse(answer.body);
    expect(document.api_keys).toEqual([expect.objectContaining({ id: apiKey.id, name: 'laptop' })]);
    expect(answer.body).not.toContain(apiKey.key);
    expect(document.files).toEqual([expect.objectContaining({ id: file.id, filename: 'notes.md' })]);
    const download = await fetch(document.files[0].download_url);
    expect(await download.text()).toContain('remember the milk');
    // The question and the seeded answer, rated and shared.
    expect(document.conversations[0].messages).toHaveLength(2);
    expect(document.feedback).toEqual([expect.objectContaining({ rating: 'up' })]);
    expect(document.shares).toEqual([
      expect.objectContaining({ conversation_id: document.conversations[0].id }),
    ]);
    expect(document.settings).toMatchObject({ custom_instructions: 'Answer briefly.' });
    expect(document.responses).toEqual([
      expect.objectContaining({ id: responseId, conversation_id: document.conversations[0].id }),
    ]);
  });
});

describe('erasure', () => {
  it('removes every kind of user data and keeps the caller’s limits', async () => {
    const sub = `erase-${randomUUID()}`;
    await seed(db, store, sub);
    const objectKey = (await filesDeps().store.listFiles(sub))[0]?.objectKey;
    expect(objectKey).toBeDefined();

    const answer = await me(apiEvent(sub, 'DELETE', '/v1/me'), lambdaContext);

    expect(answer.statusCode).toBe(200);
    const left = await sortKeys(sub);
    expect(left.filter((sk) => !/^(QUOTA#|JOBS#ACTIVE$|TURNS#ACTIVE$|ERASED$)/.test(sk))).toEqual([]);
    expect(left).toEqual(expect.arrayContaining(['ERASED', 'JOBS#ACTIVE', 'TURNS#ACTIVE']));
    // The write bucket's counter of this DELETE itself survives it: erasing does not reset the limits.
    expect(left.some((sk) => sk.startsWith('QUOTA#ROUTE#write#'))).toBe(true);
    expect(await filesDeps().objects.size(String(objectKey))).toBeUndefined();
  });

  it('refuses the writes of a turn that started before the erasure, and accepts those of a new one', async () => {
    const sub = `inflight-${randomUUID()}`;
    const { conversation } = await seed(db, store, sub);
    const startedBefore = new Date();

    await me(apiEvent(sub, 'DELETE', '/v1/me'), lambdaContext);

    await expect(
      putMessage(store, sub, message(conversation.conversationId, 1, startedBefore)),
    ).rejects.toMatchObject({ statusCode: 410, code: 'user_erased' });
    expect((await sortKeys(sub)).filter((sk) => sk.startsWith('MSG#'))).toEqual([]);

    const fresh = await createConversation(store, sub, { title: 'After' });
    await putMessage(store, sub, message(fresh.conversationId, 0, new Date(Date.now() + 5)));
    expect((await sortKeys(sub)).filter((sk) => sk.startsWith('MSG#'))).toHaveLength(1);
  });
});
