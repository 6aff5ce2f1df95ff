/**
 * The Vercel AI SDK's default OpenAI provider (`@ai-sdk/openai`, whose models call `POST /v1/responses`) against
 * the local stack: the same cases as through the openai-compatible provider, plus what the Responses API adds.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiBase, machineToken } from '../setup/context';
import { recordedRequests } from '../setup/inference-requests';
import { aiSdkCases } from './support/ai-sdk-cases';

let token: string;
beforeAll(async () => {
  token = await machineToken('a');
});

/** Request bodies the provider sent, in order. */
const sent: Record<string, unknown>[] = [];

function responsesModel() {
  return createOpenAI({
    baseURL: apiBase(),
    apiKey: token,
    fetch: (url, init) => {
      if (typeof init?.body === 'string') sent.push(JSON.parse(init.body) as Record<string, unknown>);
      return fetch(url, init);
    },
  })('chatstack-local');
}

describe('the Vercel AI SDK (@ai-sdk/openai, Responses API)', () => {
  // The Responses API has no `seed`: greedy decoding makes the generated model's objects and calls end.
  aiSdkCases(responsesModel, () => ({ temperature: 0 }));

  it('reports the stored response and its usage', async () => {
    const result = await generateText({
      model: responsesModel(),
      prompt: 'Say hi.',
      maxOutputTokens: 8,
      maxRetries: 0,
    });
    expect(result.response.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.totalTokens).toBe((result.usage.inputTokens ?? 0) + (result.usage.outputTokens ?? 0));
  });

  it('streams with a system prompt', async () => {
    const result = streamText({
      model: responsesModel(),
      system: 'Be brief.',
      prompt: 'Say hello.',
      maxOutputTokens: 8,
      maxRetries: 0,
    });
    let streamed = '';
    for await (const delta of result.textStream) streamed += delta;
    expect(streamed).toBe(await result.text);
    expect((await result.usage).outputTokens).toBeLessThanOrEqual(8);
  });

  it('continues a conversation from its earlier result: the stored answer is sent as an item reference', async () => {
    const marker = `remember-${crypto.randomUUID()}`;
    const first = await generateText({
      model: responsesModel(),
      prompt: marker,
      maxOutputTokens: 12,
      temperature: 0,
      maxRetries: 0,
    });
    expect(first.text).not.toBe('');
    const followUp = `And then? ${crypto.randomUUID()}`;
    const second = await generateText({
      model: responsesModel(),
      messages: [
        { role: 'user', content: marker },
        ...first.response.messages,
        { role: 'user', content: followUp },
      ],
      maxOutputTokens: 4,
      maxRetries: 0,
    });
    expect(['stop', 'length']).toContain(second.finishReason);
    const asked = sent.find((body) => JSON.stringify(body).includes(followUp));
    expect(JSON.stringify(asked?.input)).toContain('"type":"item_reference"');
    const prompt = (await recordedRequests()).find((request) =>
      request.messages?.some((message) => message.content === followUp),
    );
    const contents = prompt?.messages?.map((message) => `${message.role}:${message.content}`) ?? [];
    expect(contents.slice(-3)).toEqual([`user:${marker}`, `assistant:${first.text}`, `user:${followUp}`]);
  });
});
