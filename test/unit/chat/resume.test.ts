import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatDeps, runTurn } from '../../../lambdas/chat/pipeline';
import type { TurnRef } from '../../../lambdas/chat/prepare';
import { keys } from '../../../lambdas/contracts/keys';
import { allMessages } from '../../../lambdas/conversations/store';
import { CircuitBreakers } from '../../../lambdas/inference';
import { startSageMakerRuntime } from '../../../scripts/local/sagemaker-runtime';
import { type FakeBehaviour, type FakeModel, startFakeModel } from '../inference/fake-model';
import { pipelineDeps, startTable, TABLE_NAME, type TestTable } from './harness';

/** A job's retry answers the turn its first attempt stored: the question once, the request counted once. */
let table: TestTable;
let model: FakeModel;
let runtime: { url: string; close(): Promise<void> };
let client: SageMakerRuntimeClient;
let deps: ChatDeps;
let plan: () => FakeBehaviour = () => ({ kind: 'answer', tokens: ['ok'] });

beforeAll(async () => {
  table = await startTable();
  model = await startFakeModel(() => plan());
  runtime = await startSageMakerRuntime({ port: 0, endpoints: { m: model.url } });
  client = new SageMakerRuntimeClient({
    endpoint: runtime.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
  deps = pipelineDeps(table, client, {
    breakers: new CircuitBreakers({ threshold: 100, cooldownMs: 1000 }),
    options: { attemptsPerEndpoint: 1 },
  });
});
afterAll(async () => {
  client.destroy();
  await runtime.close();
  await model.close();
  await table.close();
});

/** The minute's requests over every region's counter item (`<sk>@<region>`). */
async function requestsCounted(sub: string): Promise<number> {
  const minute = new Date().toISOString().slice(0, 16);
  const key = keys.quota(sub, `RPM#${minute}`);
  const page = await table.db.send(
    new QueryCommand({
      TableName: TABLE_NAME,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
      ExpressionAttributeValues: { ':pk': key.pk, ':sk': `${key.sk}@` },
    }),
  );
  return (page.Items ?? []).reduce((total, item) => total + Number(item.requests ?? 0), 0);
}

describe('a retried turn', () => {
  it.each([
    ['before the first token', { kind: 'refuse', status: 500 } as FakeBehaviour],
    ['mid-answer', { kind: 'break', tokens: ['Half'] } as FakeBehaviour],
  ])('that failed %s stores its question once and its answer in the same place', async (_when, failure) => {
    const caller = { sub: `user-${crypto.randomUUID()}`, requestId: 'job_1' };
    const request = { messages: [{ role: 'user' as const, content: 'Summarise the sea.' }] };
    let ref: TurnRef | undefined;
    plan = () => failure;
    const first = await runTurn(deps, caller, request, {
      concurrencySlot: false,
      onPrepared: async (turn) => {
        ref = turn;
      },
    }).catch((error: unknown) => error);
    if (!(first instanceof Error)) expect(first).toMatchObject({ status: 'interrupted' });
    expect(ref).toBeDefined();

    plan = () => ({ kind: 'answer', tokens: ['The sea is wide.'] });
    const second = await runTurn(deps, caller, request, { concurrencySlot: false, resume: ref });
    expect(second.completion.choices[0]?.message.content).toBe('The sea is wide.');
    expect(second.completion.conversation_id).toBe(ref?.conversationId);

    const stored = await allMessages(deps.store, caller.sub, ref?.conversationId ?? '');
    expect(stored.map((message) => [message.role, message.content, message.status])).toEqual([
      ['user', 'Summarise the sea.', 'complete'],
      ['assistant', 'The sea is wide.', 'complete'],
    ]);
    expect(await requestsCounted(caller.sub)).toBe(1);
    // The model saw the question once, as the newest turn.
    const sent = model.requests.at(-1)?.messages as { role: string; content: string }[];
    expect(sent.filter((message) => message.content === 'Summarise the sea.')).toHaveLength(1);
  });

  it('that finished and was stored returns the stored answer: the model is not asked again, nothing is rewritten', async () => {
    const caller = { sub: `user-${crypto.randomUUID()}`, requestId: 'job_2' };
    const request = { messages: [{ role: 'user' as const, content: 'Once' }] };
    let ref: TurnRef | undefined;
    plan = () => ({ kind: 'answer', tokens: ['Done'] });
    await runTurn(deps, caller, request, {
      onPrepared: async (turn) => {
        ref = turn;
      },
    });
    const asked = model.requests.length;
    plan = () => ({ kind: 'answer', tokens: ['Twice'] });
    const again = await runTurn(deps, caller, request, { resume: ref });
    expect(again.error).toBeUndefined();
    expect(again.completion.choices[0]).toMatchObject({
      message: { content: 'Done' },
      finish_reason: 'stop',
    });
    expect(again.completion.conversation_id).toBe(ref?.conversationId);
    expect(model.requests.length).toBe(asked);
    const stored = await allMessages(deps.store, caller.sub, ref?.conversationId ?? '');
    expect(stored.map((message) => message.content)).toEqual(['Once', 'Done']);
  });
});
