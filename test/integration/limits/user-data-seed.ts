/** One of everything a user can own, on the local stack's table and files bucket (the erasure and export tests). */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createApiKey } from '../../../lambdas/api-keys/store';
import { keys } from '../../../lambdas/contracts/keys';
import { type ConversationStore, createConversation, putMessage } from '../../../lambdas/conversations/store';
import { rateAnswer } from '../../../lambdas/feedback/store';
import { uploadInline } from '../../../lambdas/files/service';
import { takeSlot } from '../../../lambdas/quota/slots';
import { settingsOf } from '../../../lambdas/responses/convert';
import { newResponseId, putResponse } from '../../../lambdas/responses/store';
import { updateSettings } from '../../../lambdas/settings/store';
import { shareConversation } from '../../../lambdas/sharing/store';
import { LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { filesDeps } from '../files/support';

export function message(conversationId: string, sequence: number, createdAt: Date) {
  return {
    messageId: `msg_${randomUUID().replaceAll('-', '')}`,
    conversationId,
    sequence,
    role: 'user' as const,
    content: `question ${sequence}`,
    createdAt: createdAt.toISOString(),
    status: 'complete' as const,
  };
}

/** One of everything a user can own, plus a request counter and a turn and a job slot. */
export async function seed(db: DynamoDBDocumentClient, store: ConversationStore, sub: string) {
  const conversation = await createConversation(store, sub, { title: 'Notes' });
  const question = { ...message(conversation.conversationId, 0, new Date()), parentId: null };
  await putMessage(store, sub, question);
  await db.send(
    new PutCommand({
      TableName: LOCAL_TABLE_NAME,
      Item: { ...keys.usage(sub, '2026-12-01'), date: '2026-12-01', requests: 4, tokensIn: 1, tokensOut: 2 },
    }),
  );
  await db.send(
    new PutCommand({ TableName: LOCAL_TABLE_NAME, Item: { ...keys.job(sub, 'job_1'), entity: 'job' } }),
  );
  await db.send(
    new PutCommand({
      TableName: LOCAL_TABLE_NAME,
      Item: { pk: keys.userPartition(sub), sk: 'IDEM#chat#abc' },
    }),
  );
  const apiKey = await createApiKey(
    { db, tableName: LOCAL_TABLE_NAME },
    { sub, scopes: ['chat:read'] },
    {
      name: 'laptop',
    },
  );
  const file = await uploadInline(filesDeps(), sub, {
    filename: 'notes.md',
    contentType: 'text/markdown',
    purpose: 'assistants',
    body: new TextEncoder().encode('# Notes\n\nremember the milk'),
  });
  // Rated and shared; far enough from the start that tests can add messages of their own before it.
  const answer = {
    ...message(conversation.conversationId, 9, new Date()),
    role: 'assistant' as const,
    content: 'seeded answer',
    parentId: question.messageId,
  };
  await putMessage(store, sub, answer);
  await rateAnswer(store, sub, conversation.conversationId, answer.messageId, { rating: 'up' });
  await shareConversation(store, sub, conversation.conversationId);
  await updateSettings(store, sub, { custom_instructions: 'Answer briefly.' });
  const responseId = newResponseId();
  await putResponse(
    store,
    sub,
    {
      responseId,
      createdAt: Math.floor(Date.now() / 1000),
      settings: settingsOf({ input: 'question 0' }, 'chatstack-local'),
      inputItems: [
        { id: 'msg_1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'q' }] },
      ],
      conversationId: conversation.conversationId,
      sequence: answer.sequence,
    },
    Date.now(),
  );
  const quota = { db, tableName: LOCAL_TABLE_NAME, requestsPerMinute: 60, tokensPerDay: 1000 };
  await takeSlot(quota, keys.activeTurns(sub), 'turn-1', Date.now() + 60_000, 8);
  await db.send(
    new PutCommand({
      TableName: LOCAL_TABLE_NAME,
      Item: { ...keys.activeJobs(sub), jobIds: new Set(['job_1']) },
    }),
  );
  return { conversation, apiKey, file, responseId, answer };
}
