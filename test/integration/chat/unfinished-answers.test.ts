/**
 * A resumable answer never stays `generating` for ever. The chat pipeline runs on the stack's DynamoDB with a
 * table client that fails the writes a test names (fault injection through the pipeline's own dependencies) and a
 * scripted model behind the local SageMaker runtime: when the answer's final write fails every attempt, the answer
 * ends `interrupted` with the text its progress steps stored; when even that fails, readers — the conversation,
 * a re-attached stream, the stop request — treat it as interrupted once its generation is provably over.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatDeps, runTurn } from '../../../lambdas/chat/pipeline';
import { DEFAULT_LIMITS } from '../../../lambdas/chat/prepare';
import { reattachStream, stopAnswer } from '../../../lambdas/chat/reattach';
import { GENERATION_LIFETIME_MS } from '../../../lambdas/conversations/abandoned';
import { allMessages, type ConversationStore, getMessageAt } from '../../../lambdas/conversations/store';
import { CircuitBreakers } from '../../../lambdas/inference';
import { createModeration, defaultModerationConfig } from '../../../lambdas/moderation';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { startSageMakerRuntime } from '../../../scripts/local/sagemaker-runtime';
import { type FakeBehaviour, type FakeModel, startFakeModel } from '../../unit/inference/fake-model';
import { stack } from '../setup/context';

let model: FakeModel;
let runtime: { url: string; close(): Promise<void> };
let sagemaker: SageMakerRuntimeClient;
let db: DynamoDBDocumentClient;
let plan: () => FakeBehaviour = () => ({ kind: 'answer', tokens: ['ok'] });

beforeAll(async () => {
  model = await startFakeModel(() => plan());
  runtime = await startSageMakerRuntime({ port: 0, endpoints: { scripted: model.url } });
  sagemaker = new SageMakerRuntimeClient({
    endpoint: runtime.url,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack().dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  );
});
afterAll(async () => {
  sagemaker?.destroy();
  db?.destroy();
  await runtime?.close();
  await model?.close();
});

type Command = { readonly input: Record<string, unknown> };

/** The table client with the writes `fails` names failing as a DynamoDB outage would (retryable 500s). */
function failing(fails: (command: Command) => boolean, onSent: (command: Command) => void = () => {}) {
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: Command) => {
        if (fails(command))
          throw Object.assign(new Error('injected: the table is unavailable'), {
            name: 'InternalServerError',
          });
        const result = await (target.send as (command: Command) => Promise<unknown>)(command);
        onSent(command);
        return result;
      };
    },
  });
}

/** The answer's final write: the put over its `generating` record. */
const isFinalWrite = (command: Command) =>
  command instanceof PutCommand &&
  (command.input.Item as Record<string, unknown> | undefined)?.role === 'assistant' &&
  (command.input.Item as Record<string, unknown> | undefined)?.status !== 'generating';
/** The write that ends an unsaved answer as interrupted. */
const isEndingWrite = (command: Command) =>
  command instanceof UpdateCommand &&
  (command.input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':interrupted'] ===
    'interrupted';
/** A progress step that stored some text. */
const isTextStep = (command: Command) =>
  command instanceof UpdateCommand &&
  typeof (command.input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':content'] ===
    'string' &&
  (command.input.ExpressionAttributeValues as Record<string, string>)[':content'] !== '';

function depsWith(store: ConversationStore): ChatDeps {
  return {
    store,
    quota: { db, tableName: LOCAL_TABLE_NAME, requestsPerMinute: 1000, tokensPerDay: 1e9 },
    limits: DEFAULT_LIMITS,
    inference: {
      client: sagemaker,
      endpoints: ['scripted'],
      breakers: new CircuitBreakers({ threshold: 5, cooldownMs: 1_000 }),
      options: { attemptsPerEndpoint: 1, backoffBaseMs: 10 },
    },
    moderation: createModeration({
      config: defaultModerationConfig(),
      recorder: { decision: () => undefined },
    }),
    modelId: 'scripted-model',
    persistAttempts: 2,
  };
}

/** Reads a re-attached stream to its end: its text, finish reason and whether it ended with `[DONE]`. */
async function replay(store: ConversationStore, sub: string, answer: Parameters<typeof reattachStream>[2]) {
  let raw = '';
  for await (const part of reattachStream(store, sub, answer, 0)) raw += String(part);
  const lines = raw.split('\n').filter((line) => line.startsWith('data: '));
  const chunks = lines.filter((line) => line !== 'data: [DONE]').map((line) => JSON.parse(line.slice(6)));
  return {
    text: chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join(''),
    finish: chunks.at(-1)?.choices?.[0]?.finish_reason,
    done: lines.at(-1) === 'data: [DONE]',
  };
}

const words = (count: number) => Array.from({ length: count }, (_, index) => `word${index} `);

describe('a resumable answer whose final write fails', () => {
  it('ends interrupted with the text its steps stored, and a re-attached stream replays it to the end', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stepStored = () => {};
    const textStored = new Promise<void>((resolve) => {
      stepStored = resolve;
    });
    // Enough text that the output filter lets most of it out while the model holds the rest.
    plan = () => ({ kind: 'hold', tokens: words(120), release: held });
    const store: ConversationStore = {
      db: failing(isFinalWrite, (command) => {
        if (isTextStep(command)) stepStored();
      }),
      tableName: LOCAL_TABLE_NAME,
      retentionDays: 0,
    };
    const sub = `unsaved-${crypto.randomUUID()}`;
    let shown = '';

    const turn = runTurn(
      depsWith(store),
      { sub },
      { messages: [{ role: 'user', content: 'Tell me everything.' }], stream: true },
      {
        resumable: true,
        onText: (text) => {
          shown += text;
        },
      },
    );
    await textStored;
    release();
    const record = await turn;

    expect(record.error?.error.code).toBe('answer_not_saved');
    const conversationId = record.completion.conversation_id;
    const stored = (await allMessages(store, sub, conversationId)).at(-1);
    expect(stored?.role).toBe('assistant');
    expect(stored?.status).toBe('interrupted');
    expect(stored?.content.length).toBeGreaterThan(0);
    expect(shown.startsWith(stored?.content ?? '-')).toBe(true);
    if (!stored) throw new Error('no answer stored');
    const replayed = await replay(store, sub, stored);
    expect(replayed.done).toBe(true);
    expect(replayed.text).toBe(stored.content);
  });
});

describe('an answer left generating (its final write and the write ending it both failed)', () => {
  it('reads as interrupted once its generation is provably over: conversation, re-attach and stop', async () => {
    plan = () => ({ kind: 'answer', tokens: words(8) });
    const store: ConversationStore = {
      db: failing((command) => isFinalWrite(command) || isEndingWrite(command)),
      tableName: LOCAL_TABLE_NAME,
      retentionDays: 0,
    };
    const sub = `abandoned-${crypto.randomUUID()}`;
    const record = await runTurn(
      depsWith(store),
      { sub },
      { messages: [{ role: 'user', content: 'Hello?' }], stream: true },
      { resumable: true },
    );
    expect(record.error?.error.code).toBe('answer_not_saved');
    const conversationId = record.completion.conversation_id;
    // Within a generation's lifetime nobody can tell a dead generation from a slow one: it still reads generating.
    const now = await allMessages(store, sub, conversationId);
    expect(now.at(-1)?.status).toBe('generating');

    const later: ConversationStore = {
      ...store,
      now: () => new Date(Date.now() + GENERATION_LIFETIME_MS + 60_000),
    };
    const answer = (await allMessages(later, sub, conversationId)).at(-1);
    expect(answer?.status).toBe('interrupted');
    if (!answer) throw new Error('no answer stored');
    expect((await getMessageAt(later, sub, conversationId, answer.sequence))?.status).toBe('interrupted');
    // A re-attached stream ends at once instead of waiting for an answer nobody is writing.
    const replayed = await replay(later, sub, answer);
    expect(replayed.done).toBe(true);
    expect(replayed.finish).toBe('stop');
    expect(await stopAnswer(later, sub, answer)).toEqual({ stopping: false });
  });
});
