/**
 * Scale to zero on the local stack: the model is served by an inference component that starts with no copies
 * (the SageMaker runtime emulator's cold mode). While it wakes, chat answers 503 `model_waking` with `retry-after`;
 * after that wait it answers; a job submitted meanwhile waits on the queue and completes.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestToken } from '../setup/context';
import { startTestStack, type TestStack } from '../setup/stack';

let running: TestStack;
let token: string;

beforeAll(async () => {
  running = await startTestStack({
    // Shorter than the `retry-after` the API answers (10 s), so one wait is enough, as it is in AWS for most wakes.
    env: { INFERENCE_COLD_START_MS: '8000' },
    handlerEnv: { QUOTA_REQUESTS_PER_MINUTE: '100000', QUOTA_TOKENS_PER_DAY: '100000000' },
  });
  token = await requestToken(running.urls.issuer, 'a', 'chat:read chat:write');
});

afterAll(async () => {
  await running?.stop();
});

const messages = [{ role: 'user' as const, content: 'Hello there' }];

async function job(
  id: string,
): Promise<{ status: string; result?: { choices: { message: { content: string } }[] } }> {
  const res = await fetch(`${running.urls.api}/v1/jobs/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string };
}

describe('a model scaled to zero', () => {
  it('answers model_waking with retry-after, then answers; a job submitted meanwhile completes', async () => {
    const client = new OpenAI({ baseURL: `${running.urls.api}/v1`, apiKey: token, maxRetries: 0 });

    const refused = await client.chat.completions
      .create({ model: 'chatstack-local', messages, max_tokens: 4 })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    const waking = refused as InstanceType<typeof OpenAI.APIError>;
    expect(waking.status).toBe(503);
    expect(waking.code).toBe('model_waking');
    expect(waking.type).toBe('server_error');
    expect(waking.message).toMatch(/waking up/);
    const retryAfter = Number(waking.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);

    const submitted = await fetch(`${running.urls.api}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages, max_tokens: 4 }),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };

    // The streamed route says the same before it starts a stream.
    const streamed = await fetch(`${running.urls.api}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages, max_tokens: 4, stream: true }),
    });
    expect(streamed.status).toBe(503);
    expect(streamed.headers.get('retry-after')).toBe(String(retryAfter));
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('model_waking');

    // What a client does with `retry-after`: wait that long, then ask again.
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    const answer = await client.chat.completions.create({
      model: 'chatstack-local',
      messages,
      max_tokens: 4,
    });
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);

    // The job was put back on the queue while the model woke (never failed), and is answered now.
    const deadline = Date.now() + 45_000;
    let state = await job(id);
    while (state.status !== 'completed' && state.status !== 'failed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      state = await job(id);
    }
    expect(state.status).toBe('completed');
    expect(state.result?.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect(running.logs.some((line) => line.includes('job waits for the model to wake'))).toBe(true);
  }, 120_000);
});
