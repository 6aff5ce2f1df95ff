/**
 * Several models in one deployment, on the local stack (two generated models, each on its own inference server):
 * the openai SDK lists and retrieves them, `model` picks the server that answers, the answer, the conversation
 * and the usage aggregates name the model, and an unknown model is a 404 that writes and counts nothing.
 */
import OpenAI, { NotFoundError } from 'openai';
import { describe, expect, it } from 'vitest';
import { TITLE_INSTRUCTIONS } from '../../../lambdas/titles/title';
import { adminToken, personToken } from '../admin/harness';
import { until } from '../async/harness';
import { call } from '../auth/harness';
import { apiBase, machineToken, stack } from '../setup/context';
import { recordedRequests } from '../setup/inference-requests';

const FIRST = 'chatstack-local';
const SECOND = 'chatstack-local-2';

const client = async (token?: string) =>
  new OpenAI({ baseURL: apiBase(), apiKey: token ?? (await machineToken('a')), maxRetries: 0 });

/** The first user message of every request an inference server received. */
async function questionsAt(server: string | undefined): Promise<string[]> {
  if (server === undefined) throw new Error('the stack serves one model only');
  return (await recordedRequests(server))
    .filter((body) => !(body.messages ?? []).some((message) => message.content === TITLE_INSTRUCTIONS))
    .flatMap((body) =>
      (body.messages ?? []).filter((message) => message.role === 'user').map((message) => message.content),
    );
}

describe('the models of a deployment', () => {
  it('lists both models with their context length, the default first', async () => {
    const openai = await client();
    const models = [];
    for await (const model of openai.models.list()) models.push(model);

    expect(models).toEqual([
      {
        id: FIRST,
        object: 'model',
        created: expect.any(Number),
        owned_by: 'chatstack',
        context_length: 2048,
      },
      {
        id: SECOND,
        object: 'model',
        created: expect.any(Number),
        owned_by: 'chatstack',
        context_length: 1024,
      },
    ]);
  });

  it('retrieves one model by id, and answers an unknown one with 404 model_not_found', async () => {
    const openai = await client();

    expect(await openai.models.retrieve(SECOND)).toMatchObject({ id: SECOND, context_length: 1024 });
    const error = await openai.models.retrieve('gpt-4o').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      status: 404,
      error: { type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    });
  });

  it("sends each model's turns to its own inference server and names the model on the answer", async () => {
    const openai = await client();
    const marker = crypto.randomUUID();
    for (const model of [FIRST, SECOND]) {
      const completion = await openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: `${model} ${marker}` }],
        max_tokens: 4,
      });
      expect(completion.model).toBe(model);
    }
    const streamed = await openai.chat.completions.create({
      model: SECOND,
      messages: [{ role: 'user', content: `streamed ${marker}` }],
      max_tokens: 4,
      stream: true,
    });
    const chunkModels = new Set<string>();
    for await (const chunk of streamed) chunkModels.add(chunk.model);
    expect([...chunkModels]).toEqual([SECOND]);

    const atFirst = (await questionsAt(stack().inference)).filter((text) => text.includes(marker));
    const atSecond = (await questionsAt(stack().inference2)).filter((text) => text.includes(marker));
    expect(atFirst).toEqual([`${FIRST} ${marker}`]);
    expect(atSecond.sort()).toEqual([`${SECOND} ${marker}`, `streamed ${marker}`].sort());
  });

  it('cuts max_tokens to the chosen model’s own context', async () => {
    const openai = await client();
    // 1024 tokens of context: a 1,500-byte question leaves no room on the second model, and fits the first.
    const question = 'x'.repeat(1500);
    const error = await openai.chat.completions
      .create({ model: SECOND, messages: [{ role: 'user', content: question }], max_tokens: 4 })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ status: 400, error: { code: 'context_length_exceeded' } });
    const completion = await openai.chat.completions.create({
      model: FIRST,
      messages: [{ role: 'user', content: question }],
      max_tokens: 4,
    });
    expect(completion.model).toBe(FIRST);
  });

  it('remembers the model of each answer in the stored conversation', async () => {
    const openai = await client();
    const first = await openai.chat.completions.create({
      model: FIRST,
      messages: [{ role: 'user', content: 'First question' }],
      max_tokens: 4,
    });
    const conversationId = (first as unknown as { conversation_id: string }).conversation_id;
    await openai.chat.completions.create({
      model: SECOND,
      messages: [{ role: 'user', content: 'Second question' }],
      max_tokens: 4,
      // @ts-expect-error chatstack's extension of the request
      conversation_id: conversationId,
    });

    const stored = await call(await machineToken('a'), 'GET', `/conversations/${conversationId}`);
    const answers = stored
      .json<{ messages: { role: string; model: string | null }[] }>()
      .messages.filter((message) => message.role === 'assistant');
    expect(answers.map((answer) => answer.model)).toEqual([FIRST, SECOND]);
  });

  it('counts usage per chosen model', async () => {
    const id = `person-${crypto.randomUUID()}`;
    const openai = await client(await personToken(id));
    await openai.chat.completions.create({
      model: SECOND,
      messages: [{ role: 'user', content: 'Count me' }],
      max_tokens: 4,
    });
    const admin = await adminToken();
    const models = async () =>
      (await call(admin, 'GET', `/admin/users/${id}`))
        .json<{ days: { model: string; requests: number }[] }>()
        .days.map((day) => [day.model, day.requests]);

    await until(async () => (await models()).length > 0);
    expect(await models()).toEqual([[SECOND, 1]]);
  });

  it('refuses an unknown model with 404 before anything is stored or counted', async () => {
    const person = await personToken(`person-${crypto.randomUUID()}`);
    const openai = await client(person);
    for (const stream of [false, true]) {
      const error = await openai.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello?' }], stream })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({
        status: 404,
        error: { type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
      });
    }

    const conversations = await call(person, 'GET', '/conversations');
    expect(conversations.json<{ data: unknown[] }>().data).toEqual([]);
    const usage = await call(person, 'GET', '/me/usage');
    expect(usage.json<{ days: unknown[] }>().days).toEqual([]);
    // The first request that runs is the first one counted in this minute's window.
    const answered = await call(person, 'POST', '/chat/completions', {
      model: FIRST,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 2,
    });
    expect(answered.status).toBe(200);
    const limit = Number(answered.headers.get('x-ratelimit-limit-requests'));
    expect(Number(answered.headers.get('x-ratelimit-remaining-requests'))).toBe(limit - 1);
  });

  it('gives reasoning_effort to the chosen model’s chat template', async () => {
    const openai = await client();
    const ask = async (extra: { reasoning_effort?: 'high' }) =>
      (
        await openai.chat.completions.create({
          model: SECOND,
          messages: [{ role: 'user', content: 'Think about it' }],
          max_tokens: 1,
          ...extra,
        })
      ).usage?.prompt_tokens ?? 0;
    const plain = await ask({});

    // The generated template's line `<|im_start|>system\nReasoning: high<|im_end|>\n`: a token a byte, two special.
    expect(await ask({ reasoning_effort: 'high' })).toBe(
      plain + Buffer.byteLength('system\nReasoning: high\n') + 2,
    );
  });
});
