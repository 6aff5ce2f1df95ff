/**
 * The user-data jobs on the local stack: `POST /v1/me/export` on the real handler, written by the stack's
 * user-data worker into the exports bucket (s3rver) and downloaded through its presigned link; and the second
 * sweep after `DELETE /v1/me`, which the erasure schedules on the same queue and the same worker runs.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DataExport } from '../../../lambdas/contracts/data-export';
import { EnvName } from '../../../lambdas/contracts/env';
import { keys } from '../../../lambdas/contracts/keys';
import { USER_DATA_PREFIXES } from '../../../lambdas/contracts/user-data';
import { type ConversationStore, createConversation, putMessage } from '../../../lambdas/conversations/store';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { LOCAL_FILES } from '../../../scripts/local/files-resources';
import { localUserDataEnvironment } from '../../../scripts/local/user-data-resources';
import { stack } from '../setup/context';
import { type ApiHandler, apiEvent, itemsWithPrefix, lambdaContext, useStackEnvironment } from './harness';
import { message, seed } from './user-data-seed';

/** The second sweep's delay for this file's handler: long enough to write "in flight" after the first sweep. */
const SWEEP_DELAY_SECONDS = 3;
let me: ApiHandler;
let db: DynamoDBDocumentClient;
let store: ConversationStore;

beforeAll(async () => {
  useStackEnvironment({
    [EnvName.s3Endpoint]: stack().s3,
    [EnvName.sqsEndpoint]: stack().sqs,
    [EnvName.filesBucketName]: LOCAL_FILES.bucket,
    [EnvName.erasureSweepDelaySeconds]: String(SWEEP_DELAY_SECONDS),
    ...(await localUserDataEnvironment(stack())),
  });
  ({ handler: me } = (await import('../../../lambdas/me/handler')) as unknown as { handler: ApiHandler });
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack().dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  );
  store = { db, tableName: LOCAL_TABLE_NAME, retentionDays: 0 };
});

async function exportOf(sub: string, id: string): Promise<DataExport> {
  const answer = await me(apiEvent(sub, 'GET', `/v1/me/export/${id}`), lambdaContext);
  expect(answer.statusCode).toBe(200);
  return JSON.parse(answer.body) as DataExport;
}

interface Line {
  readonly object?: string;
  readonly kind?: string;
  readonly item?: Record<string, unknown>;
  readonly counts?: Record<string, number>;
}

describe('an asynchronous export', () => {
  it('is written by the worker and downloaded through its link, with every branch, file and kind of data', async () => {
    const sub = `export-job-${randomUUID()}`;
    const { conversation, apiKey, file, answer } = await seed(db, store, sub);
    // A second branch: another answer to the same question (a regenerated one), and the passages of the file,
    // per-key and per-model usage, so every registered kind is there.
    const question = message(conversation.conversationId, 0, new Date());
    await putMessage(store, sub, { ...question, sequence: 1, parentId: null });
    for (const [sequence, content] of [
      [2, 'first answer'],
      [3, 'second answer'],
    ] as const) {
      await putMessage(store, sub, {
        ...message(conversation.conversationId, sequence, new Date()),
        role: 'assistant',
        content,
        parentId: question.messageId,
      });
    }
    await db.send(
      new PutCommand({
        TableName: LOCAL_TABLE_NAME,
        Item: {
          ...keys.fileChunk(sub, file.id, 0),
          entity: 'chunk',
          fileId: file.id,
          index: 0,
          text: 'milk',
        },
      }),
    );

    const started = await me(apiEvent(sub, 'POST', '/v1/me/export'), lambdaContext);
    expect(started.statusCode).toBe(202);
    const { id, status } = JSON.parse(started.body) as DataExport;
    expect(status).toBe('queued');
    await expect
      .poll(async () => (await exportOf(sub, id)).status, { timeout: 30_000, interval: 200 })
      .toBe('completed');
    const done = await exportOf(sub, id);
    expect(done.expires_at).toBeGreaterThan(Date.now() / 1000);
    const download = await fetch(String(done.url));
    expect(download.status).toBe(200);
    const text = await download.text();
    expect(text.length).toBe(done.bytes);
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);

    expect(lines[0]).toMatchObject({ object: 'export', user: { sub } });
    expect(lines.at(-1)?.object).toBe('export.end');
    const kinds = new Set(lines.flatMap((line) => (line.kind ? [line.kind] : [])));
    const exportedKinds = USER_DATA_PREFIXES.filter((entry) => entry.exported !== false).map(
      (entry) => entry.kind,
    );
    expect([...kinds].sort()).toEqual([...new Set(exportedKinds)].sort());
    const answers = lines.filter((line) => line.kind === 'messages' && line.item?.role === 'assistant');
    expect(answers.map((line) => [line.item?.content, line.item?.parent_id])).toEqual([
      ['first answer', question.messageId],
      ['second answer', question.messageId],
      [answer.content, answer.parentId],
    ]);
    const exportedFile = lines.find((line) => line.kind === 'files' && line.item?.id === file.id)?.item;
    expect(exportedFile).toMatchObject({ filename: 'notes.md' });
    expect(await (await fetch(String(exportedFile?.download_url))).text()).toContain('remember the milk');
    expect(lines.some((line) => line.kind === 'api_keys' && line.item?.id === apiKey.id)).toBe(true);
    expect(text).not.toContain(apiKey.key);
  });

  it('is gone with an erasure: its object at once, its record with the rest', async () => {
    const sub = `export-erased-${randomUUID()}`;
    const started = await me(apiEvent(sub, 'POST', '/v1/me/export'), lambdaContext);
    const { id } = JSON.parse(started.body) as DataExport;
    await expect
      .poll(async () => (await exportOf(sub, id)).status, { timeout: 30_000, interval: 200 })
      .toBe('completed');
    const { url } = await exportOf(sub, id);
    expect((await fetch(String(url))).status).toBe(200);

    await me(apiEvent(sub, 'DELETE', '/v1/me'), lambdaContext);

    expect((await fetch(String(url))).status).toBe(404);
    expect((await me(apiEvent(sub, 'GET', `/v1/me/export/${id}`), lambdaContext)).statusCode).toBe(404);
  });

  it("answers 404 for another user's export, as for one that does not exist", async () => {
    const owner = `export-owner-${randomUUID()}`;
    const started = await me(apiEvent(owner, 'POST', '/v1/me/export'), lambdaContext);
    const { id } = JSON.parse(started.body) as DataExport;

    const other = await me(
      apiEvent(`export-other-${randomUUID()}`, 'GET', `/v1/me/export/${id}`),
      lambdaContext,
    );

    expect(other.statusCode).toBe(404);
    expect(JSON.parse(other.body).error).toMatchObject({ param: 'id' });
  });
});

describe('the second erasure sweep', () => {
  it('removes what in-flight work wrote after the first sweep: a raced answer and a late usage aggregate', async () => {
    const sub = `sweep-${randomUUID()}`;
    const { conversation } = await seed(db, store, sub);
    const turnStartedAt = new Date();

    const erased = await me(apiEvent(sub, 'DELETE', '/v1/me'), lambdaContext);
    expect(erased.statusCode).toBe(200);
    // A stream in flight whose answer write raced the erase marker (its check passed just before the marker was
    // written), and a late analytics event's usage aggregate: both land after the first sweep.
    const late = { ...message(conversation.conversationId, 1, new Date()), role: 'assistant' as const };
    await db.send(
      new PutCommand({
        TableName: LOCAL_TABLE_NAME,
        Item: {
          ...keys.message(sub, conversation.conversationId, 1),
          type: 'message',
          ...late,
          latencyMs: Date.now() - turnStartedAt.getTime() + 1,
        },
      }),
    );
    await db.send(
      new PutCommand({
        TableName: LOCAL_TABLE_NAME,
        Item: { ...keys.usage(sub, '2026-12-01'), date: '2026-12-01', requests: 1 },
      }),
    );
    expect(await itemsWithPrefix(db, sub, 'MSG#')).toHaveLength(1);

    await expect
      .poll(async () => (await itemsWithPrefix(db, sub, 'MSG#')).length, { timeout: 30_000, interval: 250 })
      .toBe(0);
    expect(await itemsWithPrefix(db, sub, 'USAGE#')).toEqual([]);
  });

  it('keeps a conversation the user started after the erasure', async () => {
    const sub = `sweep-back-${randomUUID()}`;
    await seed(db, store, sub);
    await me(apiEvent(sub, 'DELETE', '/v1/me'), lambdaContext);
    const inFlight = await createConversation(store, sub, { title: 'in flight' });
    await db.send(
      new PutCommand({
        TableName: LOCAL_TABLE_NAME,
        Item: { ...keys.conversation(sub, inFlight.conversationId), createdAt: '2026-01-01T00:00:00.000Z' },
      }),
    );
    const fresh = await createConversation(store, sub, { title: 'after' });

    await expect
      .poll(
        async () =>
          (
            await db.send(
              new GetCommand({
                TableName: LOCAL_TABLE_NAME,
                Key: keys.conversation(sub, inFlight.conversationId),
                ConsistentRead: true,
              }),
            )
          ).Item,
        { timeout: 30_000, interval: 250 },
      )
      .toBeUndefined();
    const left = await itemsWithPrefix(db, sub, 'CONV#');
    expect(left.map((item) => item.conversationId)).toEqual([fresh.conversationId]);
  });
});
