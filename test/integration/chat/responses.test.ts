/**
 * OpenAI's Responses API through the official `openai` client on the local stack: plain and streamed responses
 * (the typed events in OpenAI's order, and the SDK's stream helper), a conversation continued with
 * `previous_response_id` (checked on what the inference server received), a function-tool loop with forced tool
 * choice, structured output with `responses.parse`, and the stored response's routes.
 */
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { apiBase, callApi, machineToken } from '../setup/context';
import { recordedRequests } from '../setup/inference-requests';

let client: OpenAI;
let token: string;
beforeAll(async () => {
  token = await machineToken('a');
  client = new OpenAI({ baseURL: apiBase(), apiKey: token, maxRetries: 0 });
});

const MODEL = 'chatstack-local';

// Bounded fields: a random test model inside an unbounded string may never close it.
const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 16 }, celsius: { type: 'boolean' } },
    required: ['city', 'celsius'],
    additionalProperties: false,
  },
  strict: true,
};

/** What a finished response's usage and status must satisfy, whatever the generated model said. */
function expectFinished(response: OpenAI.Responses.Response, maxOutputTokens: number) {
  expect(response.object).toBe('response');
  expect(response.id).toMatch(/^resp_[0-9a-f]{32}$/);
  expect(['completed', 'incomplete']).toContain(response.status);
  if (response.status === 'incomplete') expect(response.incomplete_details?.reason).toBe('max_output_tokens');
  const usage = response.usage;
  expect(usage?.input_tokens).toBeGreaterThan(0);
  expect(usage?.total_tokens).toBe((usage?.input_tokens ?? 0) + (usage?.output_tokens ?? 0));
  expect(usage?.output_tokens).toBeLessThanOrEqual(maxOutputTokens);
  if (response.status === 'incomplete') expect(usage?.output_tokens).toBe(maxOutputTokens);
}

function promptWith(text: string) {
  return recordedRequests().then((requests) =>
    requests.find((request) => request.messages?.some((message) => message.content === text)),
  );
}

describe('responses.create', () => {
  it('answers a string input with a response object: a message with output_text, usage, status', async () => {
    const { data: response, response: http } = await client.responses
      .create({ model: MODEL, input: 'Say hi.', max_output_tokens: 8 })
      .withResponse();
    expectFinished(response, 8);
    const message = response.output.find((item) => item.type === 'message');
    expect(message).toMatchObject({ type: 'message', role: 'assistant', id: expect.stringMatching(/^msg_/) });
    const part = message?.type === 'message' ? message.content[0] : undefined;
    expect(part).toMatchObject({ type: 'output_text', annotations: [] });
    expect(response.output_text).toBe(part?.type === 'output_text' ? part.text : undefined);
    expect(http.headers.get('x-conversation-id')).toMatch(/^conv_/);
  });

  it('passes instructions, sampling and metadata, and echoes them', async () => {
    const marker = `instructions-${crypto.randomUUID()}`;
    const response = await client.responses.create({
      model: MODEL,
      instructions: marker,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hello there.' }] }],
      temperature: 0.5,
      top_p: 0.9,
      max_output_tokens: 4,
      metadata: { purpose: 'test' },
    });
    expectFinished(response, 4);
    expect(response).toMatchObject({ instructions: marker, temperature: 0.5, top_p: 0.9 });
    expect(response.metadata).toEqual({ purpose: 'test' });
    const prompt = await promptWith(marker);
    expect(prompt?.messages?.[0]).toEqual({ role: 'system', content: marker });
  });

  it('streams the typed events in order, numbered from 0', async () => {
    const stream = await client.responses.create({
      model: MODEL,
      input: 'Say hello.',
      max_output_tokens: 8,
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(events[0]?.type).toBe('response.created');
    expect(events[1]?.type).toBe('response.in_progress');
    const last = events.at(-1);
    expect(['response.completed', 'response.incomplete']).toContain(last?.type);
    const final = last && 'response' in last ? last.response : undefined;
    expect(final).toBeDefined();
    if (final) expectFinished(final, 8);
    const deltas = events.flatMap((event) =>
      event.type === 'response.output_text.delta' ? [event.delta] : [],
    );
    const types = events.map((event) => event.type);
    if (deltas.length > 0) {
      expect(types.slice(2, 4)).toEqual(['response.output_item.added', 'response.content_part.added']);
      expect(types.slice(-4, -1)).toEqual([
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
      ]);
      const done = events.find((event) => event.type === 'response.output_text.done');
      expect(done?.type === 'response.output_text.done' ? done.text : undefined).toBe(deltas.join(''));
    }
    expect(
      final?.output_text ?? (final?.output[0]?.type === 'message' ? final.output[0].content[0] : ''),
    ).toBeDefined();
    const message = final?.output.find((item) => item.type === 'message');
    const text =
      message?.type === 'message' && message.content[0]?.type === 'output_text'
        ? message.content[0].text
        : '';
    expect(text).toBe(deltas.join(''));
  });

  it('streams through the SDK helper (responses.stream) to the final response', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'Count to three.', max_output_tokens: 8 });
    let streamed = '';
    stream.on('response.output_text.delta', (event) => {
      streamed += event.delta;
    });
    const final = await stream.finalResponse();
    expectFinished(final, 8);
    expect(final.output_text).toBe(streamed);
  });

  it('continues a stored response with previous_response_id: the model sees the earlier turn', async () => {
    const marker = `remember-${crypto.randomUUID()}`;
    const first = await client.responses.create({ model: MODEL, input: marker, max_output_tokens: 4 });
    const followUp = `What did I say? ${crypto.randomUUID()}`;
    const second = await client.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      input: followUp,
      max_output_tokens: 4,
    });
    expectFinished(second, 4);
    expect(second.previous_response_id).toBe(first.id);
    const prompt = await promptWith(followUp);
    const contents = prompt?.messages?.map((message) => `${message.role}:${message.content}`) ?? [];
    expect(contents).toContain(`user:${marker}`);
    expect(contents.at(-1)).toBe(`user:${followUp}`);
    // The earlier answer is in the context too, between the two questions.
    expect(contents.indexOf(`user:${marker}`)).toBeLessThan(contents.length - 2);
  });

  it('runs a function-tool loop: a forced call, then its output continues the response', async () => {
    const first = await client.responses.create({
      model: MODEL,
      input: 'Weather in Paris?',
      tools: [weatherTool],
      tool_choice: { type: 'function', name: 'get_weather' },
      max_output_tokens: 200,
    });
    expect(first.status).toBe('completed');
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(Object.keys(JSON.parse(call.arguments)).sort()).toEqual(['celsius', 'city']);
    const result = `{"temperature": 21, "marker": "${crypto.randomUUID()}"}`;
    const second = await client.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: result }],
      tools: [weatherTool],
      max_output_tokens: 6,
    });
    expectFinished(second, 6);
    const prompt = await promptWith(result);
    const roles = prompt?.messages?.map((message) => message.role) ?? [];
    expect(roles.slice(-3)).toEqual(['user', 'assistant', 'tool']);
  });

  it('takes the whole tool loop as input items (function_call and function_call_output)', async () => {
    const marker = `tool-output-${crypto.randomUUID()}`;
    const response = await client.responses.create({
      model: MODEL,
      input: [
        { role: 'user', content: 'Weather in Oslo?' },
        {
          type: 'function_call',
          call_id: 'call_oslo',
          name: 'get_weather',
          arguments: '{"city":"Oslo","celsius":true}',
        },
        { type: 'function_call_output', call_id: 'call_oslo', output: marker },
      ],
      tools: [weatherTool],
      max_output_tokens: 6,
    });
    expectFinished(response, 6);
    const prompt = (await recordedRequests()).find((request) =>
      request.messages?.some((message) => message.role === 'tool' && message.content === marker),
    ) as { messages: { role: string; tool_calls?: { id: string }[] }[] } | undefined;
    expect(prompt?.messages.map((message) => message.role).slice(-3)).toEqual(['user', 'assistant', 'tool']);
    expect(prompt?.messages.at(-2)?.tool_calls?.[0]?.id).toBe('call_oslo');
  });

  it('streams a forced function call with argument deltas and a done event', async () => {
    const stream = await client.responses.create({
      model: MODEL,
      input: 'Weather in Rome?',
      tools: [weatherTool],
      tool_choice: 'required',
      max_output_tokens: 200,
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const added = events.find(
      (event) => event.type === 'response.output_item.added' && event.item.type === 'function_call',
    );
    const deltas = events.flatMap((event) =>
      event.type === 'response.function_call_arguments.delta' ? [event.delta] : [],
    );
    const done = events.find((event) => event.type === 'response.function_call_arguments.done');
    expect(added).toBeDefined();
    expect(deltas.length).toBeGreaterThan(0);
    expect(done?.type === 'response.function_call_arguments.done' ? done.arguments : undefined).toBe(
      deltas.join(''),
    );
    expect(events.at(-1)?.type).toBe('response.completed');
  });

  it('parses structured output with a zod schema (responses.parse)', async () => {
    const Answer = z.object({ answer: z.string().max(24), certain: z.boolean() });
    const response = await client.responses.parse({
      model: MODEL,
      input: 'Is the sky blue?',
      text: { format: zodTextFormat(Answer, 'answer') },
      max_output_tokens: 300,
      temperature: 0,
    });
    expect(response.status).toBe('completed');
    expect(Answer.parse(response.output_parsed)).toEqual(response.output_parsed);
  });

  it('answers a json_object format with JSON', async () => {
    const response = await client.responses.create({
      model: MODEL,
      input: 'Reply with a JSON object.',
      text: { format: { type: 'json_object' } },
      max_output_tokens: 300,
      temperature: 0,
    });
    if (response.status === 'completed') expect(() => JSON.parse(response.output_text)).not.toThrow();
    else expect(response.incomplete_details?.reason).toBe('max_output_tokens');
  });

  it('surfaces a bad request as a typed error naming the field', async () => {
    const failure = await client.responses
      .create({ model: MODEL, input: 'Hi', max_output_tokens: 0 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failure as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('max_output_tokens');
  });
});

describe('a stored response', () => {
  it('is retrieved as it was returned, lists its input items and is deleted', async () => {
    const created = await client.responses.create({
      model: MODEL,
      input: [
        { role: 'user', content: 'First question.' },
        { role: 'assistant', content: 'First answer.' },
        { role: 'user', content: 'Second question.' },
      ],
      max_output_tokens: 4,
    });
    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved).toEqual(created);

    const newest = await client.responses.inputItems.list(created.id, { limit: 2 });
    expect(newest.data.map((item) => (item.type === 'message' ? item.role : item.type))).toEqual([
      'user',
      'assistant',
    ]);
    expect(newest.has_more).toBe(true);
    const all: string[] = [];
    for await (const item of client.responses.inputItems.list(created.id, { order: 'asc', limit: 1 }))
      all.push(
        item.type === 'message' && item.content[0]?.type === 'input_text' ? item.content[0].text : item.type,
      );
    expect(all).toEqual(['First question.', 'message', 'Second question.']);

    await client.responses.delete(created.id);
    const gone = await client.responses.retrieve(created.id).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('is not visible to another user', async () => {
    const created = await client.responses.create({ model: MODEL, input: 'Private.', max_output_tokens: 2 });
    const other = await machineToken('b');
    for (const [method, path] of [
      ['GET', `/responses/${created.id}`],
      ['GET', `/responses/${created.id}/input_items`],
      ['DELETE', `/responses/${created.id}`],
      ['POST', `/responses/${created.id}/cancel`],
    ] as const) {
      const answer = await callApi(other, method, path);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.json().error.type).toBe('not_found_error');
    }
    const continued = await callApi(other, 'POST', '/responses', {
      input: 'Continue.',
      previous_response_id: created.id,
    });
    expect(continued.status).toBe(404);
    expect(continued.json().error.param).toBe('previous_response_id');
    expect((await client.responses.retrieve(created.id)).id).toBe(created.id);
  });

  it('is not retrievable with store: false', async () => {
    const created = await client.responses.create({
      model: MODEL,
      input: 'Not stored.',
      store: false,
      max_output_tokens: 2,
    });
    const answer = await callApi(token, 'GET', `/responses/${created.id}`);
    expect(answer.status).toBe(404);
  });

  it("is in its owner's export", async () => {
    const user = await machineToken('b');
    const created = await callApi(user, 'POST', '/responses', { input: 'Export me.', max_output_tokens: 2 });
    expect(created.status).toBe(200);
    const exported = await callApi(user, 'GET', '/me/export');
    const responses = (exported.json() as { responses?: { id: string }[] }).responses ?? [];
    expect(responses.map((response) => response.id)).toContain(created.json().id);
  });
});
