/**
 * The rest of the Chat Completions surface through the official `openai` client on the local stack: the request
 * fields current SDKs send, structured outputs, tools (forced choice makes the generated model call them for real),
 * tool results sent back on a conversation, and logprobs.
 */
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { apiBase, machineToken } from '../setup/context';

let client: OpenAI;
beforeAll(async () => {
  client = new OpenAI({ baseURL: apiBase(), apiKey: await machineToken('a'), maxRetries: 0 });
});

const MODEL = 'chatstack-local';

// Bounded fields: a random test model inside an unbounded string may never close it.
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 16 }, celsius: { type: 'boolean' } },
      required: ['city', 'celsius'],
      additionalProperties: false,
    },
  },
};
const timeTool = {
  type: 'function' as const,
  function: {
    name: 'get_time',
    parameters: {
      type: 'object',
      properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } },
      required: ['zone'],
      additionalProperties: false,
    },
  },
};

async function conversation(id: string) {
  const token = await machineToken('a');
  const response = await fetch(`${apiBase()}/conversations/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    messages: {
      role: string;
      content: string;
      tool_calls?: OpenAI.ChatCompletionMessageToolCall[];
      tool_call_id?: string;
    }[];
  };
}

describe('the Chat Completions surface through the openai client', () => {
  it('accepts the request fields current SDKs send and answers', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Say hi.' }] },
      ],
      max_completion_tokens: 6,
      prompt_cache_key: 'tenant-1',
      prompt_cache_retention: '24h',
      service_tier: 'auto',
      store: false,
      metadata: { purpose: 'test' },
      safety_identifier: 'user-123',
      user: 'user-123',
      reasoning_effort: 'low',
      verbosity: 'low',
      modalities: ['text'],
      parallel_tool_calls: false,
      n: 1,
      seed: 3,
      stop: ['\n\n'],
      presence_penalty: 0.5,
      frequency_penalty: 0.5,
      logit_bias: { '65': 5 },
      temperature: 0.7,
      top_p: 0.9,
      stream_options: null,
    });
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(['stop', 'length']).toContain(completion.choices[0]?.finish_reason);
    expect(completion.usage?.completion_tokens).toBeLessThanOrEqual(6);
  });

  it('refuses n above 1 naming the field', async () => {
    const failure = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], n: 2 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failure as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
  });

  it('parses a structured answer with a zod schema (chat.completions.parse)', async () => {
    const Answer = z.object({ answer: z.string().max(24), certain: z.boolean() });
    const completion = await client.chat.completions.parse({
      model: MODEL,
      messages: [{ role: 'user', content: 'Is the sky blue?' }],
      response_format: zodResponseFormat(Answer, 'answer'),
      max_tokens: 300,
      seed: 7,
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('stop');
    expect(Answer.parse(choice?.message.parsed)).toEqual(choice?.message.parsed);
  });

  it('answers json_object with a JSON document', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Reply in JSON.' }],
      response_format: { type: 'json_object' },
      max_tokens: 300,
      seed: 4,
    });
    const choice = completion.choices[0];
    if (choice?.finish_reason === 'stop')
      expect(() => JSON.parse(choice.message.content ?? '')).not.toThrow();
    else expect(choice?.finish_reason).toBe('length');
  });

  it('streams a forced tool call with index, id, name and argument fragments (stream helper)', async () => {
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weatherTool, timeTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 200,
      seed: 11,
    });
    const fragments: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    stream.on('chunk', (chunk) => fragments.push(...(chunk.choices[0]?.delta.tool_calls ?? [])));
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0];
    const call = choice?.message.tool_calls?.[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(call).toMatchObject({
      type: 'function',
      id: expect.any(String),
      function: { name: 'get_weather' },
    });
    const args = JSON.parse(call?.type === 'function' ? call.function.arguments : 'null');
    expect(Object.keys(args).sort()).toEqual(['celsius', 'city']);
    expect(fragments[0]).toMatchObject({ index: 0, id: call?.id, function: { name: 'get_weather' } });
    expect(fragments.filter((fragment) => fragment.function?.arguments).length).toBeGreaterThan(1);
  });

  it('runs a tool loop on a conversation: the call and its result are stored, one message each', async () => {
    const first = await client.chat.completions
      .create({
        model: MODEL,
        messages: [{ role: 'user', content: 'What time is it in UTC?' }],
        tools: [weatherTool, timeTool],
        tool_choice: 'required',
        parallel_tool_calls: false,
        max_tokens: 300,
        seed: 5,
      })
      .withResponse();
    const conversationId = first.response.headers.get('x-conversation-id') ?? '';
    const choice = first.data.choices[0];
    const call = choice?.message.tool_calls?.[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(['get_weather', 'get_time']).toContain(call.function.name);

    const result = JSON.stringify({ time: '10:00', marker: crypto.randomUUID() });
    const second = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'tool', tool_call_id: call.id, content: result }],
      tools: [weatherTool, timeTool],
      tool_choice: 'none',
      max_tokens: 8,
      // @ts-expect-error — chatstack's extension of the request schema
      conversation_id: conversationId,
    });
    expect(['stop', 'length']).toContain(second.choices[0]?.finish_reason);

    const stored = await conversation(conversationId);
    expect(stored.messages.map((message) => message.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);
    expect(stored.messages[1]?.tool_calls).toEqual([call]);
    expect(stored.messages[2]).toMatchObject({ tool_call_id: call.id, content: result });
  });

  it('sends the whole tool exchange back to the model with the history the client sends', async () => {
    const marker = crypto.randomUUID();
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo","celsius":true}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: `{"temp":3,"marker":"${marker}"}` },
      ],
      tools: [weatherTool],
      max_tokens: 6,
    });
    expect(['stop', 'length', 'tool_calls']).toContain(completion.choices[0]?.finish_reason);
  });

  it('returns logprobs in OpenAI shape, streamed and not', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Count.' }],
      max_tokens: 5,
      logprobs: true,
      top_logprobs: 2,
    });
    const content = completion.choices[0]?.logprobs?.content ?? [];
    // One entry per token of the answer. A cut at max_tokens returns every token; an answer that ended on a stop
    // text is charged for it (usage) but, as OpenAI does, returns neither its text nor its logprobs.
    if (completion.choices[0]?.finish_reason === 'length') {
      expect(content.length).toBe(completion.usage?.completion_tokens);
    } else {
      expect(content.length).toBeLessThanOrEqual(completion.usage?.completion_tokens ?? 0);
      expect(content.map((entry) => entry.token).join('')).toBe(completion.choices[0]?.message.content ?? '');
    }
    if (content.length > 0) {
      expect(content[0]).toMatchObject({ token: expect.any(String), logprob: expect.any(Number) });
      expect(content[0]?.top_logprobs).toHaveLength(2);
    }

    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Count again.' }],
      max_tokens: 5,
      logprobs: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamedTokens = 0;
    let completionTokens = 0;
    let finishReason: string | null = null;
    for await (const chunk of stream) {
      streamedTokens += chunk.choices[0]?.logprobs?.content?.length ?? 0;
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
      completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    }
    if (finishReason === 'length') expect(streamedTokens).toBe(completionTokens);
    else expect(streamedTokens).toBeLessThanOrEqual(completionTokens);
  });
});
