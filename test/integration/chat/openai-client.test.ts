/**
 * The official `openai` client against the local stack: base URL + a token from the local issuer is all it needs.
 */
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiBase, machineToken } from '../setup/context';
import { recordedRequests } from '../setup/inference-requests';

let client: OpenAI;
beforeAll(async () => {
  client = new OpenAI({ baseURL: apiBase(), apiKey: await machineToken('a'), maxRetries: 0 });
});

describe('the openai client', () => {
  it('gets a streamed answer with usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'chatstack-local',
      messages: [{ role: 'user', content: 'Say hello.' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 8,
    });
    let text = '';
    let finishReason: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    // The generated model samples freely and ends its answers by itself (end-of-sequence or its stop text), so how
    // many tokens it writes is not ours to fix; the count must match what it did: a cut at max_tokens used all 8,
    // an answer never exceeds them, and text costs tokens.
    if (finishReason === 'length') expect(usage?.completion_tokens).toBe(8);
    else expect(finishReason).toBe('stop');
    expect(usage?.completion_tokens).toBeLessThanOrEqual(8);
    if (text !== '') expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('gets a non-streamed answer with usage and a conversation id', async () => {
    const { data: completion, response } = await client.chat.completions
      .create({ model: 'chatstack-local', messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 8 })
      .withResponse();
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-conversation-id')).toMatch(/^conv_/);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('x-ratelimit-limit-requests')).toBeTruthy();
  });

  it('sends the first turn to the model with the second message of a conversation', async () => {
    const marker = `marker-${crypto.randomUUID()}`;
    const { response } = await client.chat.completions
      .create({
        model: 'chatstack-local',
        messages: [{ role: 'user', content: `Remember ${marker}.` }],
        max_tokens: 4,
      })
      .withResponse();
    const conversationId = response.headers.get('x-conversation-id');
    const followUp = `What did I ask you to remember? ${crypto.randomUUID()}`;
    const second = await client.chat.completions
      .create({
        model: 'chatstack-local',
        messages: [{ role: 'user', content: followUp }],
        max_tokens: 4,
        // @ts-expect-error — chatstack's extension of the request schema
        conversation_id: conversationId,
      })
      .withResponse();
    expect(second.response.headers.get('x-conversation-id')).toBe(conversationId);
    const prompt = (await recordedRequests()).find((request) =>
      request.messages?.some((message) => message.content === followUp),
    );
    const contents = prompt?.messages?.map((message) => `${message.role}:${message.content}`) ?? [];
    expect(contents).toContain(`user:Remember ${marker}.`);
    expect(contents.at(-1)).toBe(`user:${followUp}`);
    expect(contents.indexOf(`user:Remember ${marker}.`)).toBeLessThan(contents.length - 2);
  });

  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toContain('chatstack-local');
  });

  it('surfaces a bad request as a typed error naming the field', async () => {
    const failure = await client.chat.completions
      .create({ model: 'chatstack-local', messages: [], max_tokens: 4 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failure as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages');
  });
});
