import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreakers, type InferenceDeps, invokeChat } from '../../../lambdas/inference';
import { inferenceTargets } from '../../../lambdas/inference/targets';
import { ApiError } from '../../../lambdas/shared/errors';
import {
  type ComponentOptions,
  type SageMakerRuntime,
  startSageMakerRuntime,
} from '../../../scripts/local/sagemaker-runtime';
import { type FakeBehaviour, type FakeModel, startFakeModel } from './fake-model';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const prompt = { messages: [{ role: 'user' as const, content: 'Hello' }] };
const FALLBACK_ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:endpoint/chat-eu';
const answer = (): FakeBehaviour => ({ kind: 'answer', tokens: ['Hi'] });

interface Region {
  readonly model: FakeModel;
  readonly runtime: SageMakerRuntime;
  readonly client: SageMakerRuntimeClient;
}

/** One region's SageMaker runtime (the emulator) serving `endpoint` from its own fake model. */
async function region(
  name: string,
  endpoint: string,
  plan: () => FakeBehaviour,
  components: Record<string, ComponentOptions> = {},
): Promise<Region> {
  const model = await startFakeModel(plan);
  cleanups.push(() => model.close());
  const runtime = await startSageMakerRuntime({ port: 0, endpoints: { [endpoint]: model.url }, components });
  cleanups.push(() => runtime.close());
  const client = new SageMakerRuntimeClient({
    endpoint: runtime.url,
    region: name,
    maxAttempts: 1,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  cleanups.push(async () => client.destroy());
  return { model, runtime, client };
}

function deps(own: Region, fallback: Region | undefined, extra: Partial<InferenceDeps> = {}) {
  const asked: string[] = [];
  const breakers = new CircuitBreakers({ threshold: 3, cooldownMs: 60_000 });
  const inference: InferenceDeps = {
    client: own.client,
    endpoints: fallback ? ['chat-us', FALLBACK_ARN] : ['chat-us'],
    breakers,
    options: { backoffBaseMs: 1, backoffMaxMs: 2 },
    random: () => 0.5,
    regionalClients: (name) => {
      asked.push(name);
      if (name !== 'eu-west-1' || !fallback) throw new Error(`unexpected region ${name}`);
      return fallback.client;
    },
    ...extra,
  };
  return { inference, asked, breakers };
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

describe('endpoints in other regions', () => {
  it('calls a fallback given by ARN through its own region, by its name', async () => {
    const own = await region('us-east-1', 'chat-us', () => ({ kind: 'refuse', status: 500 }));
    const fallback = await region('eu-west-1', 'chat-eu', answer);
    const { inference, asked } = deps(own, fallback);

    const result = await invokeChat(inference, prompt);

    expect(result.text).toBe('Hi');
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set(['eu-west-1']));
    expect(own.model.requests.length).toBe(2);
    expect(fallback.model.requests.length).toBe(1);
  });

  it('keeps names in this region and never builds a client for it', async () => {
    const own = await region('us-east-1', 'chat-us', answer);
    const fallback = await region('eu-west-1', 'chat-eu', answer);
    const { inference, asked } = deps(own, fallback);

    await invokeChat(inference, prompt);

    expect(asked).toEqual([]);
    expect(fallback.model.requests.length).toBe(0);
  });

  it('refuses a malformed ARN with the variable named', () => {
    expect(() => inferenceTargets(['arn:aws:sagemaker:eu-west-1:endpoint/x'])).toThrow(/INFERENCE_ENDPOINTS/);
    expect(inferenceTargets(['chat-us', FALLBACK_ARN], ['ic-us', ''])).toEqual([
      { id: 'chat-us/ic-us', endpointName: 'chat-us', region: undefined, component: 'ic-us' },
      { id: FALLBACK_ARN, endpointName: 'chat-eu', region: 'eu-west-1', component: undefined },
    ]);
  });
});

describe('inference components that scale to zero', () => {
  it('sends the component name with the call', async () => {
    const own = await region('us-east-1', 'chat-us', answer, { 'ic-us': { endpoint: 'chat-us' } });
    const named = deps(own, undefined, { components: ['ic-us'] });
    expect((await invokeChat(named.inference, prompt)).text).toBe('Hi');

    // The emulator, like SageMaker, refuses a component the endpoint does not host.
    const wrong = deps(own, undefined, { components: ['ic-other'] });
    const error = await refusal(invokeChat(wrong.inference, prompt));
    expect(error.code).toBe('model_unavailable');
  });

  it('keeps one breaker per component: a model whose component keeps failing does not stop another on the endpoint', async () => {
    const own = await region('us-east-1', 'chat-us', answer, { 'ic-good': { endpoint: 'chat-us' } });
    // The endpoint hosts no `ic-missing`: every call to that model fails, until its breaker opens.
    const broken = deps(own, undefined, { components: ['ic-missing'] }).inference;
    for (let attempt = 0; attempt < 3; attempt++) await refusal(invokeChat(broken, prompt));
    expect(broken.breakers?.isOpen('chat-us/ic-missing')).toBe(true);

    const good = { ...broken, components: ['ic-good'] };
    expect((await invokeChat(good, prompt)).text).toBe('Hi');
  });

  it('answers 503 model_waking with retry-after while the component has no copies, then serves it', async () => {
    const own = await region('us-east-1', 'chat-us', answer, {
      'ic-us': { endpoint: 'chat-us', cold: true, wakeAfterMs: 50 },
    });
    const { inference, breakers } = deps(own, undefined, {
      components: ['ic-us'],
      options: { wakeRetryAfterSeconds: 7 },
    });

    const error = await refusal(invokeChat(inference, prompt));
    expect(error.statusCode).toBe(503);
    expect(error.code).toBe('model_waking');
    expect(error.headers['retry-after']).toBe('7');
    // The refused call started the scale-out, as SageMaker's NoCapacityInvocationFailures alarm does.
    await own.runtime.awake('ic-us');
    // A waking model is no fault of the endpoint: the breaker stays closed.
    expect(breakers.isOpen('chat-us')).toBe(false);
    expect((await invokeChat(inference, prompt)).text).toBe('Hi');
    expect(own.model.requests.length).toBe(1);
  });

  it('never opens the breaker, however many calls find no copies', async () => {
    const own = await region('us-east-1', 'chat-us', answer, {
      'ic-us': { endpoint: 'chat-us', cold: true, wakeAfterMs: 60_000 },
    });
    const { inference, breakers } = deps(own, undefined, { components: ['ic-us'] });
    for (let call = 0; call < 5; call++) {
      expect((await refusal(invokeChat(inference, prompt))).code).toBe('model_waking');
    }
    expect(breakers.isOpen('chat-us')).toBe(false);
    expect(breakers.tryAcquire('chat-us')).toBe(true);
  });

  it('serves from another region while this region’s model wakes', async () => {
    const own = await region('us-east-1', 'chat-us', answer, {
      'ic-us': { endpoint: 'chat-us', cold: true, wakeAfterMs: 60_000 },
    });
    const fallback = await region('eu-west-1', 'chat-eu', answer);
    const { inference, breakers } = deps(own, fallback, { components: ['ic-us', ''] });

    const result = await invokeChat(inference, prompt);

    expect(result.text).toBe('Hi');
    expect(fallback.model.requests.length).toBe(1);
    expect(own.model.requests.length).toBe(0);
    expect(breakers.isOpen('chat-us')).toBe(false);
  });
});
