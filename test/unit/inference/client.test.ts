import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CircuitBreakers,
  type InferenceDeps,
  InferenceInterruptedError,
  invokeChat,
  streamChat,
} from '../../../lambdas/inference';
import type { InferenceEvent } from '../../../lambdas/inference/chunks';
import { InferenceUnavailableError, ValidationError } from '../../../lambdas/shared/errors';
import { startSageMakerRuntime } from '../../../scripts/local/sagemaker-runtime';
import { type FakeBehaviour, type FakeModel, startFakeModel } from './fake-model';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(plans: Record<string, (body: Record<string, unknown>, index: number) => FakeBehaviour>) {
  const models: Record<string, FakeModel> = {};
  const endpoints: Record<string, string> = {};
  for (const [name, plan] of Object.entries(plans)) {
    const model = await startFakeModel(plan);
    cleanups.push(() => model.close());
    models[name] = model;
    endpoints[name] = model.url;
  }
  const runtime = await startSageMakerRuntime({ port: 0, endpoints });
  cleanups.push(() => runtime.close());
  const client = new SageMakerRuntimeClient({
    endpoint: runtime.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  cleanups.push(async () => client.destroy());
  const deps = (endpointNames: string[], options: InferenceDeps['options'] = {}): InferenceDeps => ({
    client,
    endpoints: endpointNames,
    breakers: new CircuitBreakers({ threshold: 3, cooldownMs: 60_000 }),
    options: { backoffBaseMs: 1, backoffMaxMs: 2, ...options },
    random: () => 0.5,
  });
  return { models, deps, client };
}

const prompt = { messages: [{ role: 'user' as const, content: 'Hello' }] };

async function collect(events: AsyncIterable<InferenceEvent>) {
  let text = '';
  const finishes: string[] = [];
  let usage: unknown;
  for await (const event of events) {
    if (event.type === 'delta') text += event.text;
    else if (event.type === 'finish') finishes.push(event.reason);
    else if (event.type === 'usage') usage = event.usage;
  }
  return { text, finishes, usage };
}

describe('streamChat', () => {
  it('streams an SSE answer with its finish reason and usage', async () => {
    const { deps } = await setup({ main: () => ({ kind: 'answer', tokens: ['Hel', 'lo', ' there'] }) });
    const result = await collect(streamChat(deps(['main']), prompt));
    expect(result).toEqual({
      text: 'Hello there',
      finishes: ['stop'],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
  });

  it('reads JSON-lines chunks cut at arbitrary byte boundaries, multi-byte characters included', async () => {
    const { deps } = await setup({
      main: () => ({
        kind: 'answer',
        tokens: ['Grüße', ' 🌍', ' ok'],
        format: 'jsonl',
        splitBytes: true,
        finishReason: 'length',
      }),
    });
    const result = await collect(streamChat(deps(['main']), prompt));
    expect(result.text).toBe('Grüße 🌍 ok');
    expect(result.finishes).toEqual(['length']);
  });

  it('asks the endpoint for usage in the stream', async () => {
    const { deps, models } = await setup({ main: () => ({ kind: 'answer', tokens: ['a'] }) });
    await collect(streamChat(deps(['main']), prompt));
    expect(models.main?.requests[0]).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      messages: prompt.messages,
    });
  });

  it('retries a refused request before the first token and then succeeds', async () => {
    const { deps, models } = await setup({
      main: (_body, index) =>
        index === 0 ? { kind: 'refuse', status: 503 } : { kind: 'answer', tokens: ['ok'] },
    });
    const result = await collect(streamChat(deps(['main']), prompt));
    expect(result.text).toBe('ok');
    expect(models.main?.requests).toHaveLength(2);
  });

  it('falls back to the next endpoint when the first keeps failing', async () => {
    const { deps } = await setup({
      primary: () => ({ kind: 'refuse', status: 500 }),
      fallback: () => ({ kind: 'answer', tokens: ['from fallback'] }),
    });
    const result = await collect(streamChat(deps(['primary', 'fallback']), prompt));
    expect(result.text).toBe('from fallback');
  });

  it('falls back when an endpoint name is unknown to SageMaker', async () => {
    const { deps } = await setup({ fallback: () => ({ kind: 'answer', tokens: ['ok'] }) });
    const result = await collect(streamChat(deps(['missing-endpoint', 'fallback']), prompt));
    expect(result.text).toBe('ok');
  });

  it('gives up with InferenceUnavailableError when no endpoint answers before the first-token timeout', async () => {
    const { deps } = await setup({ main: () => ({ kind: 'hang' }) });
    await expect(
      collect(streamChat(deps(['main'], { firstTokenTimeoutMs: 200 }), prompt)),
    ).rejects.toBeInstanceOf(InferenceUnavailableError);
  });

  it('does not retry a request the model rejected as invalid', async () => {
    const { deps, models } = await setup({
      main: () => ({ kind: 'refuse', status: 400, message: 'too long' }),
    });
    await expect(collect(streamChat(deps(['main']), prompt))).rejects.toBeInstanceOf(ValidationError);
    expect(models.main?.requests).toHaveLength(1);
  });

  it('ends with InferenceInterruptedError when the stream breaks after the first token, keeping the tokens', async () => {
    const { deps, models } = await setup({ main: () => ({ kind: 'break', tokens: ['partial', ' answer'] }) });
    let text = '';
    const failure = await (async () => {
      try {
        for await (const event of streamChat(deps(['main']), prompt))
          if (event.type === 'delta') text += event.text;
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(InferenceInterruptedError);
    expect(text).toBe('partial answer');
    expect(models.main?.requests).toHaveLength(1);
  });

  it('skips an endpoint whose circuit is open', async () => {
    const { deps, models } = await setup({
      primary: () => ({ kind: 'refuse', status: 500 }),
      fallback: () => ({ kind: 'answer', tokens: ['ok'] }),
    });
    const shared = deps(['primary', 'fallback'], { attemptsPerEndpoint: 3 });
    await collect(streamChat(shared, prompt));
    const before = models.primary?.requests.length ?? 0;
    await collect(streamChat(shared, prompt));
    expect(before).toBe(3);
    expect(models.primary?.requests).toHaveLength(3);
  });

  it('cancels the request on the wire when the caller aborts', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { deps, models } = await setup({
      main: () => ({ kind: 'hold', tokens: ['first'], release: held }),
    });
    const controller = new AbortController();
    const stream = streamChat(deps(['main']), prompt, controller.signal);
    const first = await stream.next();
    expect(first.value).toEqual({ type: 'delta', text: 'first' });
    await stream.return(undefined);
    await expect.poll(() => models.main?.cancelled).toBe(1);
    release();
  });
});

describe('faults before the first token', () => {
  it('treats a full engine queue (429, 503) as a busy endpoint: retried, never a 400, never opening the breaker', async () => {
    const { deps, models } = await setup({
      main: (_body, index) =>
        index < 2 ? { kind: 'refuse', status: index === 0 ? 429 : 503 } : { kind: 'answer', tokens: ['ok'] },
    });
    const shared = deps(['main'], { attemptsPerEndpoint: 2 });
    const busy = await collect(streamChat(shared, prompt)).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(InferenceUnavailableError);
    expect(busy).toMatchObject({ statusCode: 503, code: 'model_overloaded' });
    expect(models.main?.requests).toHaveLength(2);
    // Two overloads later the endpoint is still in rotation (a breaker would skip it after three failures).
    expect((await collect(streamChat(shared, prompt))).text).toBe('ok');
  });

  it('releases the half-open trial when the caller aborts it, so the endpoint is tried again', async () => {
    let hang = true;
    const { deps, models } = await setup({
      main: (_body, index) =>
        index < 3
          ? { kind: 'refuse', status: 500 }
          : hang
            ? { kind: 'hang' }
            : { kind: 'answer', tokens: ['back'] },
    });
    let now = 0;
    const breakers = new CircuitBreakers({ threshold: 3, cooldownMs: 1_000, now: () => now });
    const shared: InferenceDeps = { ...deps(['main'], { attemptsPerEndpoint: 3 }), breakers };
    await expect(collect(streamChat(shared, prompt))).rejects.toBeInstanceOf(InferenceUnavailableError);
    now = 2_000; // cooldown over: the next call is the half-open trial
    const controller = new AbortController();
    const trial = collect(streamChat(shared, prompt, controller.signal)).catch((error: unknown) => error);
    await expect.poll(() => models.main?.requests.length).toBe(4);
    controller.abort(); // e.g. the moderation classifier's deadline
    await trial;
    hang = false;
    expect((await collect(streamChat(shared, prompt))).text).toBe('back');
  });
});

describe('invokeChat', () => {
  it('never retries once the model accepted the request (the first token is in)', async () => {
    const { deps, models } = await setup({ main: () => ({ kind: 'break', tokens: ['half'] }) });
    await expect(invokeChat(deps(['main'], { attemptsPerEndpoint: 3 }), prompt)).rejects.toBeInstanceOf(
      InferenceInterruptedError,
    );
    expect(models.main?.requests).toHaveLength(1);
  });

  it('returns the whole answer, collected from the stream', async () => {
    const { deps } = await setup({ main: () => ({ kind: 'answer', tokens: ['Hi', ' you'] }) });
    const result = await invokeChat(deps(['main']), prompt);
    expect(result).toMatchObject({
      text: 'Hi you',
      finishReason: 'stop',
      usage: { total_tokens: 9 },
    });
  });

  it('falls back to the next endpoint when the first refuses', async () => {
    const { deps } = await setup({
      primary: () => ({ kind: 'refuse', status: 502 }),
      fallback: () => ({ kind: 'answer', tokens: ['ok'] }),
    });
    const result = await invokeChat(deps(['primary', 'fallback']), prompt);
    expect(result.text).toBe('ok');
  });
});
