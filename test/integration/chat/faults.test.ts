/**
 * Fault tests: a misbehaving inference server behind the local SageMaker runtime, the real handlers behind the
 * local API adapter, the stack's DynamoDB and issuer. The endpoint refuses, hangs or breaks mid-stream; the client
 * gets a clean error (before the first token) or an error event (after), the partial answer is stored as
 * `interrupted`, and the next request works.
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatDeps, runTurn } from '../../../lambdas/chat/pipeline';
import { DEFAULT_LIMITS } from '../../../lambdas/chat/prepare';
import { allMessages, type ConversationStore, listConversations } from '../../../lambdas/conversations/store';
import { CircuitBreakers } from '../../../lambdas/inference';
import { createModeration, defaultModerationConfig } from '../../../lambdas/moderation';
import { InferenceUnavailableError } from '../../../lambdas/shared/errors';
import { type RunningApi, startApiServer } from '../../../scripts/local/api';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { freePort } from '../../../scripts/local/ports';
import { startSageMakerRuntime } from '../../../scripts/local/sagemaker-runtime';
import { installRuntime } from '../../unit/chat/harness';
import { type FakeBehaviour, type FakeModel, startFakeModel } from '../../unit/inference/fake-model';
import { machineToken, stack } from '../setup/context';

let model: FakeModel;
let runtime: { url: string; close(): Promise<void> };
let api: RunningApi;
let client: OpenAI;
let token: string;
let plan: () => FakeBehaviour = () => ({ kind: 'answer', tokens: ['ok'] });

beforeAll(async () => {
  model = await startFakeModel(() => plan());
  runtime = await startSageMakerRuntime({ port: 0, endpoints: { faulty: model.url } });
  // The handlers run in this process (loaded by the adapter on first use) with the stack's table and our endpoint.
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    TABLE_NAME: LOCAL_TABLE_NAME,
    AWS_ENDPOINT_URL_DYNAMODB: stack().dynamodb,
    AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: runtime.url,
    INFERENCE_ENDPOINTS: 'faulty',
    MODEL_ID: 'faulty-model',
    QUOTA_REQUESTS_PER_MINUTE: '100000',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  });
  installRuntime();
  api = await startApiServer({
    host: '127.0.0.1',
    port: await freePort(),
    issuer: stack().issuer,
    webOrigin: '*',
  });
  token = await machineToken('a');
  client = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: token, maxRetries: 0 });
});
afterAll(async () => {
  await api?.close();
  await runtime?.close();
  await model?.close();
});

async function storedMessages(conversationId: string) {
  const response = await fetch(`${api.url}/v1/conversations/${conversationId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await response.json()) as { messages: { role: string; content: string; status: string }[] })
    .messages;
}

async function answerWorks() {
  plan = () => ({ kind: 'answer', tokens: ['Back', ' again'] });
  const completion = await client.chat.completions.create({
    model: 'faulty-model',
    messages: [{ role: 'user', content: 'Retry' }],
  });
  expect(completion.choices[0]?.message.content).toBe('Back again');
}

describe('when the inference endpoint refuses', () => {
  it('the client gets a clean 503 and the next request works', async () => {
    plan = () => ({ kind: 'refuse', status: 500 });
    const failure = await client.chat.completions
      .create({ model: 'faulty-model', messages: [{ role: 'user', content: 'Hello?' }], stream: true })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe('model_unavailable');
    await answerWorks();
  });
});

describe('when the engine is busy (its queue is full)', () => {
  it.each([429, 503])(
    'a %i is a retryable 503 model_overloaded, never a 400, and the next request works',
    async (status) => {
      plan = () => ({
        kind: 'refuse',
        status,
        message: 'All inference slots are busy and the wait queue is full.',
      });
      const failure = await client.chat.completions
        .create({ model: 'faulty-model', messages: [{ role: 'user', content: 'Busy?' }] })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(OpenAI.APIError);
      expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
      expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe('model_overloaded');
      expect((failure as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBeTruthy();
      await answerWorks();
    },
  );
});

describe('when the stream breaks after the first token', () => {
  it('the openai client surfaces the error event, the partial answer is stored as interrupted, and the next request works', async () => {
    plan = () => ({ kind: 'break', tokens: ['The answer ', 'is forty'] });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'faulty-model', messages: [{ role: 'user', content: 'Tell me' }], stream: true })
      .withResponse();
    let text = '';
    const failure = await (async () => {
      try {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(text).toBe('The answer is forty');
    const conversationId = response.headers.get('x-conversation-id') ?? '';
    await expect.poll(async () => (await storedMessages(conversationId)).at(-1)?.status).toBe('interrupted');
    expect((await storedMessages(conversationId)).at(-1)?.content).toBe('The answer is forty');
    await answerWorks();
  });
});

describe('when the client disconnects mid-stream', () => {
  it('the partial answer is stored as interrupted and the model request is cancelled', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    plan = () => ({ kind: 'hold', tokens: ['Half a thought'], release: held });
    const abort = new AbortController();
    const cancelledBefore = model.cancelled;
    const { data: stream, response } = await client.chat.completions
      .create(
        { model: 'faulty-model', messages: [{ role: 'user', content: 'Think' }], stream: true },
        { signal: abort.signal },
      )
      .withResponse();
    const conversationId = response.headers.get('x-conversation-id') ?? '';
    const reading = (async () => {
      try {
        for await (const _chunk of stream) abort.abort();
      } catch {
        // aborted by us
      }
    })();
    await reading;
    await expect.poll(() => model.cancelled).toBe(cancelledBefore + 1);
    await expect.poll(async () => (await storedMessages(conversationId)).at(-1)?.status).toBe('interrupted');
    expect((await storedMessages(conversationId)).at(-1)?.content).toBe('Half a thought');
    release();
    await answerWorks();
  });
});

describe('a resumable answer', () => {
  it('keeps generating after its client leaves, is stored as generating, and stops only on the stop request', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    plan = () => ({ kind: 'hold', tokens: ['Half a thought'], release: held });
    const cancelledBefore = model.cancelled;
    const leave = new AbortController();
    const response = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [{ role: 'user', content: 'Think on' }],
        stream: true,
        resumable: true,
      }),
      signal: leave.signal,
    });
    const conversationId = response.headers.get('x-conversation-id') ?? '';
    const messageId = response.headers.get('x-message-id') ?? '';
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    // The first chunk (the output filter still holds the text back), then the client leaves.
    await reader.read();
    leave.abort();

    // Gone client, answer still running: stored as generating, the model request not cancelled.
    await expect.poll(async () => (await storedMessages(conversationId)).at(-1)?.status).toBe('generating');
    expect(model.cancelled).toBe(cancelledBefore);

    const stop = await fetch(`${api.url}/v1/conversations/${conversationId}/messages/${messageId}/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(stop.status).toBe(200);
    expect(await stop.json()).toMatchObject({ id: messageId, stopping: true });
    await expect.poll(async () => (await storedMessages(conversationId)).at(-1)?.status).toBe('interrupted');
    expect((await storedMessages(conversationId)).at(-1)?.content).toBe('Half a thought');
    await expect.poll(() => model.cancelled).toBe(cancelledBefore + 1);
    release();
    await answerWorks();
  });
});

describe('when the endpoint times out', () => {
  it('the turn fails cleanly before the first token, is stored as interrupted, and the next one works', async () => {
    const sagemaker = new SageMakerRuntimeClient({
      endpoint: runtime.url,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const { documentClient } = await import('../../../lambdas/shared/clients');
    const store: ConversationStore = { db: documentClient(), tableName: LOCAL_TABLE_NAME, retentionDays: 0 };
    const deps: ChatDeps = {
      store,
      quota: {
        db: documentClient(),
        tableName: LOCAL_TABLE_NAME,
        requestsPerMinute: 1000,
        tokensPerDay: 1e9,
      },
      limits: DEFAULT_LIMITS,
      inference: {
        client: sagemaker,
        endpoints: ['faulty'],
        breakers: new CircuitBreakers({ threshold: 5, cooldownMs: 1_000 }),
        options: {
          firstTokenTimeoutMs: 300,
          attemptsPerEndpoint: 2,
          backoffBaseMs: 10,
        },
      },
      moderation: createModeration({
        config: defaultModerationConfig(),
        recorder: { decision: () => undefined },
      }),
      modelId: 'faulty-model',
    };
    const caller = { sub: `timeout-${crypto.randomUUID()}` };
    plan = () => ({ kind: 'hang' });
    const failure = await runTurn(deps, caller, {
      messages: [{ role: 'user', content: 'Anyone?' }],
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InferenceUnavailableError);

    plan = () => ({ kind: 'answer', tokens: ['Yes'] });
    const next = await runTurn(deps, caller, { messages: [{ role: 'user', content: 'Now?' }] });
    expect(next.completion.choices[0]?.message.content).toBe('Yes');
    const conversations = await listConversations(store, caller.sub, { limit: 10 });
    const timedOut = conversations.conversations.find((conversation) => conversation.title === 'Anyone?');
    const messages = await allMessages(store, caller.sub, timedOut?.conversationId ?? '');
    expect(messages.map((message) => [message.role, message.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'interrupted'],
    ]);
    sagemaker.destroy();
  });
});

describe('a background response (Responses API)', () => {
  it('is answered at once, re-attached mid-answer and resumed after the last event seen', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const words = Array.from({ length: 60 }, (_, index) => `word${index} `);
    plan = () => ({ kind: 'hold', tokens: words, release: held });
    const created = await client.responses.create({
      model: 'faulty-model',
      input: 'Think on',
      background: true,
    });
    expect(created.status).toBe('queued');
    expect(created.background).toBe(true);

    // Follow it from the store until its first text delta, then leave.
    const seen: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of await client.responses.retrieve(created.id, { stream: true })) {
      seen.push(event);
      if (event.type === 'response.output_text.delta') break;
    }
    expect(seen.map((event) => event.sequence_number)).toEqual(seen.map((_, index) => index));
    expect(seen.slice(0, 2).map((event) => event.type)).toEqual(['response.created', 'response.in_progress']);
    expect((await client.responses.retrieve(created.id)).status).toBe('in_progress');

    release();
    const last = seen.at(-1)?.sequence_number ?? -1;
    const rest: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of await client.responses.retrieve(created.id, {
      stream: true,
      starting_after: last,
    }))
      rest.push(event);
    expect(rest[0]?.sequence_number).toBe(last + 1);
    expect(rest.map((event) => event.sequence_number)).toEqual(rest.map((_, index) => last + 1 + index));
    const final = rest.at(-1);
    expect(final?.type).toBe('response.completed');
    const deltas = [...seen, ...rest].flatMap((event) =>
      event.type === 'response.output_text.delta' ? [event.delta] : [],
    );
    expect(deltas.join('')).toBe(words.join(''));
    const stored = await client.responses.retrieve(created.id);
    expect(stored.status).toBe('completed');
    expect(stored.output_text).toBe(words.join(''));
    await answerWorks();
  });

  it('is cancelled mid-answer through the stop flag: the partial answer is kept, the model request ends', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    plan = () => ({ kind: 'hold', tokens: ['Half a thought'], release: held });
    const cancelledBefore = model.cancelled;
    const created = await client.responses.create({
      model: 'faulty-model',
      input: 'Think on',
      background: true,
    });
    await expect.poll(async () => (await client.responses.retrieve(created.id)).status).toBe('in_progress');

    const cancelled = await client.responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    await expect.poll(() => model.cancelled).toBe(cancelledBefore + 1);
    const stored = await client.responses.retrieve(created.id);
    expect(stored.status).toBe('cancelled');
    expect(stored.output_text).toBe('Half a thought');
    // A cancelled response stays cancelled.
    expect((await client.responses.cancel(created.id)).status).toBe('cancelled');
    release();
    await answerWorks();
  });

  it('cancelled before its first token, never answers', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    plan = () => ({ kind: 'hold', tokens: [], release: held });
    const created = await client.responses.create({ model: 'faulty-model', input: 'Wait', background: true });
    const cancelled = await client.responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    release();
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of await client.responses.retrieve(created.id, { stream: true }))
      events.push(event);
    expect(events.at(-1)?.type).toBe('response.incomplete');
    expect((await client.responses.retrieve(created.id)).status).toBe('cancelled');
    await answerWorks();
  });
});
