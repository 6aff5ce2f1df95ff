import { describe, expect, it } from 'vitest';
import { toEngineRequest } from '../../../gpu-endpoint/src/engine-request';
import { parseChatCompletionRequest } from '../../../gpu-endpoint/src/openai';

const options = { contextSize: 2048, sequences: 4 };
const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const time = { type: 'function' as const, function: { name: 'get_time' } };

function engineBody(body: Record<string, unknown>, overrides = {}) {
  return toEngineRequest(parseChatCompletionRequest(body), { ...options, ...overrides });
}

const messages = [{ role: 'user', content: 'Hi' }];

describe('the request sent to llama-server', () => {
  it('always streams with usage and caches the prompt unless the caller says otherwise', () => {
    expect(engineBody({ messages }).body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      cache_prompt: true,
    });
    expect(engineBody({ messages, cache_prompt: false }).body.cache_prompt).toBe(false);
  });

  it('passes sampling, penalties, logprobs, stop, seed, logit_bias and ignore_eos through', () => {
    const passedThrough = {
      temperature: 0.2,
      top_p: 0.9,
      seed: 7,
      stop: ['\n'],
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logit_bias: { '65': -100 },
      logprobs: true,
      top_logprobs: 3,
      ignore_eos: true,
    };

    const { body } = engineBody({ messages, ...passedThrough, max_completion_tokens: 12 });

    expect(body).toMatchObject({ ...passedThrough, max_tokens: 12 });
  });

  it('passes reasoning_effort and chat_template_kwargs to llama-server, which gives them to the template', () => {
    const body = engineBody({
      messages,
      reasoning_effort: 'high',
      chat_template_kwargs: { reasoning_effort: 'high' },
    }).body;

    expect(body).toMatchObject({
      reasoning_effort: 'high',
      chat_template_kwargs: { reasoning_effort: 'high' },
    });
  });

  it('refuses an unknown reasoning effort and template variables llama-server cannot take, naming the field', () => {
    for (const bad of [
      { reasoning_effort: 'extreme' },
      { chat_template_kwargs: { 'not a name': 1 } },
      { chat_template_kwargs: { enable_thinking: 'false' } },
    ]) {
      expect(() => engineBody({ messages, ...bad }), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ status: 400, param: expect.stringMatching(Object.keys(bad)[0] ?? '') }),
      );
    }
  });

  it('sends developer messages as system messages, which chat templates know', () => {
    const { body } = engineBody({ messages: [{ role: 'developer', content: 'Be terse.' }, ...messages] });

    expect(body.messages).toEqual([{ role: 'system', content: 'Be terse.' }, ...messages]);
  });

  it('forwards nothing it does not know (SDK extras such as store or metadata)', () => {
    const { body } = engineBody({ messages, store: true, metadata: { a: 'b' }, user: 'u1' });

    expect(Object.keys(body).sort()).toEqual(['cache_prompt', 'messages', 'stream', 'stream_options']);
  });

  it('leaves tool_choice auto to the engine’s template parser', () => {
    const { body, forcedTool } = engineBody({ messages, tools: [weather], tool_choice: 'auto' });

    expect(forcedTool).toBeUndefined();
    expect(body).toMatchObject({ tools: [weather], tool_choice: 'auto' });
    expect(body.response_format).toBeUndefined();
  });

  it('turns a named tool choice into a generation constrained to that function’s parameters', () => {
    const { body, forcedTool } = engineBody({
      messages,
      tools: [weather, time],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });

    expect(forcedTool).toEqual({ kind: 'named', name: 'get_weather' });
    expect(body).toMatchObject({
      tools: [weather, time],
      tool_choice: 'none',
      response_format: { type: 'json_schema', json_schema: { schema: weather.function.parameters } },
    });
  });

  it('turns tool_choice required into an array of calls over the offered tools, one call without parallel calls', () => {
    const { body, forcedTool } = engineBody({
      messages,
      tools: [weather, time],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    const schema = (body.response_format as { json_schema: { schema: Record<string, unknown> } }).json_schema
      .schema;

    expect(forcedTool).toEqual({ kind: 'required' });
    expect(schema).toMatchObject({ type: 'array', minItems: 1, maxItems: 1 });
    expect(schema.items).toEqual({
      anyOf: [
        {
          type: 'object',
          properties: {
            name: { type: 'string', enum: ['get_weather'] },
            parameters: weather.function.parameters,
          },
          required: ['name', 'parameters'],
        },
        {
          type: 'object',
          properties: { name: { type: 'string', enum: ['get_time'] }, parameters: { type: 'object' } },
          required: ['name', 'parameters'],
        },
      ],
    });
  });

  it('rejects max_tokens beyond a slot’s context with context_length_exceeded naming the field', () => {
    expect(() => engineBody({ messages, max_tokens: 4096 })).toThrow(
      expect.objectContaining({ status: 400, param: 'max_tokens', code: 'context_length_exceeded' }),
    );
  });
});

describe('request validation', () => {
  it.each([
    [{ messages, tool_choice: 'required' }, 'tool_choice'],
    [
      { messages, tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } },
      'tool_choice',
    ],
    [{ messages, tools: [{ type: 'function', function: { name: 'has space' } }] }, 'tools[0].function.name'],
    [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id'],
    [{ messages, top_logprobs: 50 }, 'top_logprobs'],
    [{ messages, logit_bias: { abc: 1 } }, 'logit_bias.abc'],
  ])('rejects a bad field with a 400 naming it (%#)', (body, param) => {
    expect(() => parseChatCompletionRequest(body)).toThrow(
      expect.objectContaining({ status: 400, type: 'invalid_request_error', param }),
    );
  });
});
