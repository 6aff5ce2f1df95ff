import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEngine } from '../../../gpu-endpoint/scripts/build-engine';
import { type InferenceServerHandle, startInferenceServer } from '../../../gpu-endpoint/src/testing';
import { chatBody, postJson, readStream } from './sse';

// Starting the server loads llama.cpp and the model; generation runs on one shared CPU thread.
const START_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 60_000;

describe('inference server with the generated tiny model', { timeout: TEST_TIMEOUT_MS }, () => {
  let server: InferenceServerHandle;

  beforeAll(async () => {
    server = await startInferenceServer({ env: { SEQUENCES: '4', RECORD_REQUESTS: '1' } });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
  });

  it('answers /ping with 200 once the engine is healthy', async () => {
    const response = await fetch(`${server.url}/ping`);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'healthy', slots: { total: 4 } });
  });

  it('streams one chunk per token: as many content chunks as completion tokens', async () => {
    const stream = await readStream(
      await postJson(
        `${server.url}/invocations`,
        // Greedy: every token is then one of the model's printable ASCII bytes, a complete character each.
        chatBody({
          stream: true,
          max_tokens: 40,
          ignore_eos: true,
          temperature: 0,
          stream_options: { include_usage: true },
        }),
      ),
    );

    expect(stream.chunks.at(-1)).toMatchObject({ usage: { completion_tokens: 40 } });
    expect(stream.contentChunks).toBe(40);
  });

  it('completes concurrent streamed requests with correct chunk framing and usage', async () => {
    const maxTokens = 24;
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        postJson(
          `${server.url}/invocations`,
          chatBody({
            messages: [{ role: 'user', content: `Request number ${i}` }],
            stream: true,
            stream_options: { include_usage: true },
            max_tokens: maxTokens,
            ignore_eos: true,
          }),
        ).then((response) => readStream(response)),
      ),
    );

    for (const stream of responses) {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain('text/event-stream');
      expect(stream.wellFramed).toBe(true);
      expect(stream.events.at(-1)).toBe('[DONE]');
      const [first, ...rest] = stream.chunks;
      expect(first).toMatchObject({
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }],
        usage: null,
      });
      const usageChunk = rest.at(-1);
      expect(usageChunk).toMatchObject({
        choices: [],
        usage: {
          completion_tokens: maxTokens,
          total_tokens: expect.any(Number),
          prompt_tokens: expect.any(Number),
        },
      });
      const finishReasons = rest.flatMap((c) =>
        (c.choices as { finish_reason: string | null }[]).map((choice) => choice.finish_reason),
      );
      expect(finishReasons.filter((reason) => reason !== null)).toEqual(['length']);
      expect(new Set(stream.chunks.map((c) => c.id)).size).toBe(1);
      expect(stream.text.length).toBeGreaterThan(0);
    }
  });

  it('honours max_tokens exactly when EOS is ignored', async () => {
    const response = await postJson(
      `${server.url}/invocations`,
      chatBody({ max_tokens: 37, ignore_eos: true }),
    );
    const body = await response.json();

    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { role: 'assistant' }, finish_reason: 'length' }],
      usage: { completion_tokens: 37 },
    });
  });

  it('accepts max_completion_tokens in place of max_tokens', async () => {
    const response = await postJson(
      `${server.url}/v1/chat/completions`,
      chatBody({ max_completion_tokens: 5, ignore_eos: true }),
    );

    expect(await response.json()).toMatchObject({ usage: { completion_tokens: 5 } });
  });

  it('serves the official openai client, streamed and not, at <url>/v1', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });

    const models = await client.models.list();
    const completion = await client.chat.completions.create({
      model: models.data[0]?.id ?? '',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 8,
    });
    const stream = client.chat.completions.stream({
      model: 'tiny-chat',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 8,
      stream_options: { include_usage: true },
    });
    const streamed = await stream.finalChatCompletion();

    expect(models.data.map((m) => m.id)).toEqual(['tiny-chat']);
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(['stop', 'length']).toContain(completion.choices[0]?.finish_reason);
    expect(completion.usage?.completion_tokens).toBeLessThanOrEqual(8);
    expect(['stop', 'length']).toContain(streamed.choices[0]?.finish_reason);
    expect(streamed.usage?.completion_tokens).toBeLessThanOrEqual(8);
  });

  it('constrains the answer to a JSON schema given as response_format', async () => {
    const response = await postJson(
      `${server.url}/invocations`,
      chatBody({
        max_tokens: 300,
        seed: 7,
        // Bounded fields: a random test model inside an unbounded string or number may never close it.
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'answer',
            schema: {
              type: 'object',
              properties: { answer: { type: 'string', maxLength: 24 }, certain: { type: 'boolean' } },
              required: ['answer', 'certain'],
            },
          },
        },
      }),
    );
    const body = await response.json();
    const content = JSON.parse(body.choices[0].message.content);

    expect(body.choices[0].finish_reason).toBe('stop');
    expect(content).toEqual({ answer: expect.any(String), certain: expect.any(Boolean) });
    expect(content.answer.length).toBeLessThanOrEqual(24);
  });

  const weatherTool = {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      // Bounded fields: a random model inside an unbounded string may never close it.
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

  it('answers a named tool choice with a streamed tool call whose arguments match the schema', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });

    const stream = client.chat.completions.stream({
      model: 'tiny-chat',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weatherTool, timeTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 200,
      seed: 11,
    });
    let argumentDeltas = 0;
    stream.on('chunk', (chunk) => {
      if (chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments) argumentDeltas++;
    });
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0];
    const call = choice?.message.tool_calls?.[0];
    const args = JSON.parse(call?.type === 'function' ? call.function.arguments : 'null');

    expect(choice?.finish_reason).toBe('tool_calls');
    expect(call).toMatchObject({
      type: 'function',
      function: { name: 'get_weather' },
      id: expect.any(String),
    });
    expect(Object.keys(args).sort()).toEqual(['celsius', 'city']);
    expect(typeof args.city).toBe('string');
    expect(args.city.length).toBeLessThanOrEqual(16);
    expect(typeof args.celsius).toBe('boolean');
    expect(argumentDeltas).toBeGreaterThan(1);
  });

  it('answers tool_choice required with calls of offered tools only, as a non-streamed completion', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });

    const completion = await client.chat.completions.create({
      model: 'tiny-chat',
      messages: [{ role: 'user', content: 'What time is it?' }],
      tools: [weatherTool, timeTool],
      tool_choice: 'required',
      parallel_tool_calls: false,
      max_tokens: 300,
      seed: 5,
    });
    const choice = completion.choices[0];
    const calls = choice?.message.tool_calls ?? [];

    expect(choice?.finish_reason).toBe('tool_calls');
    expect(calls).toHaveLength(1);
    for (const call of calls) {
      if (call.type !== 'function') throw new Error(`unexpected tool call type ${call.type}`);
      expect(['get_weather', 'get_time']).toContain(call.function.name);
      expect(JSON.parse(call.function.arguments)).toBeTypeOf('object');
    }
  });

  it('returns per-token logprobs when asked', async () => {
    const response = await postJson(
      `${server.url}/invocations`,
      chatBody({ max_tokens: 5, ignore_eos: true, logprobs: true, top_logprobs: 2 }),
    );
    const body = await response.json();
    const logprobs = body.choices[0].logprobs.content;

    expect(logprobs).toHaveLength(5);
    expect(logprobs[0]).toMatchObject({ token: expect.any(String), logprob: expect.any(Number) });
    expect(logprobs[0].top_logprobs).toHaveLength(2);
  });

  it('gives reasoning_effort to the chat template: the prompt grows by the line the template writes', async () => {
    const promptTokens = async (extra: Record<string, unknown>) => {
      const response = await postJson(`${server.url}/invocations`, chatBody({ max_tokens: 1, ...extra }));
      expect(response.status).toBe(200);
      return ((await response.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
    };
    // The generated template writes `<|im_start|>system\nReasoning: <effort><|im_end|>\n`: one token a byte,
    // plus the two special tokens; `none` turns it off (llama-server drops the variable).
    const line = (effort: string) => Buffer.byteLength(`system\nReasoning: ${effort}\n`) + 2;
    const plain = await promptTokens({});

    expect(await promptTokens({ reasoning_effort: 'high' })).toBe(plain + line('high'));
    expect(await promptTokens({ chat_template_kwargs: { reasoning_effort: 'low' } })).toBe(
      plain + line('low'),
    );
    expect(await promptTokens({ reasoning_effort: 'none' })).toBe(plain);
  });

  it('rejects chat_template_kwargs that llama-server would fail on, naming the field', async () => {
    const response = await postJson(
      `${server.url}/invocations`,
      chatBody({ chat_template_kwargs: { enable_thinking: 'yes' } }),
    );

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', param: expect.stringMatching(/^chat_template_kwargs/) },
    });
  });

  it("serves a conversation's second turn from the prompt cache", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const history: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: `You are a cache test ${Math.random()}.` },
      { role: 'user', content: 'Tell me a long story about a lighthouse keeper and the sea, please.' },
    ];
    const first = await client.chat.completions.create({
      model: 'tiny-chat',
      messages: history,
      max_tokens: 30,
    });
    history.push(
      { role: 'assistant', content: first.choices[0]?.message.content ?? '' },
      { role: 'user', content: 'And then?' },
    );

    const second = await client.chat.completions.create({
      model: 'tiny-chat',
      messages: history,
      max_tokens: 5,
    });
    const firstPrompt = first.usage?.prompt_tokens ?? 0;

    // Turn one shares only the template's opening with earlier requests.
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBeLessThan(firstPrompt / 2);
    // Everything of turn one's prompt comes from the KV cache (the answer too, as far as it was kept).
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(firstPrompt - 1);
    const line = await server.waitForLog(
      (l) =>
        l.message === 'request' &&
        l.cachedPromptTokens === second.usage?.prompt_tokens_details?.cached_tokens,
    );
    expect(line).toMatchObject({ outcome: 'completed' });
  });

  it.each([
    [{ messages: [] }, 'messages'],
    [chatBody({ temperature: 5 }), 'temperature'],
    [chatBody({ max_tokens: 0 }), 'max_tokens'],
    [{ messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
    [chatBody({ response_format: { type: 'json_schema' } }), 'response_format.json_schema'],
    [chatBody({ tool_choice: 'required' }), 'tool_choice'],
  ])('rejects bad input with a 400 error object naming the field (%#)', async (body, param) => {
    const response = await postJson(`${server.url}/invocations`, body);

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param, code: null },
    });
  });

  it('rejects a body that is not JSON with a 400 error object', async () => {
    const response = await postJson(`${server.url}/invocations`, '{not json');

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_json' },
    });
  });

  it('rejects a request longer than the context with context_length_exceeded', async () => {
    const response = await postJson(`${server.url}/invocations`, chatBody({ max_tokens: 100_000 }));

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { param: 'max_tokens', code: 'context_length_exceeded' },
    });
  });

  it('records the request bodies when RECORD_REQUESTS=1', async () => {
    const messages = [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ];
    await postJson(`${server.url}/invocations`, { messages, max_tokens: 2, ignore_eos: true });

    const recorded = await (await fetch(`${server.url}/debug/requests`)).json();

    expect(recorded.data.at(-1).body.messages).toEqual(messages);
  });

  it('logs one structured line per request with queue wait, TTFT, tokens, cached prompt tokens and slots', async () => {
    const response = await postJson(
      `${server.url}/invocations`,
      chatBody({ max_tokens: 6, ignore_eos: true }),
      { headers: { 'content-type': 'application/json', 'x-request-id': 'log-check-1' } },
    );
    await response.json();

    const line = await server.waitForLog((l) => l.message === 'request' && l.requestId === 'log-check-1');

    expect(response.headers.get('x-request-id')).toBe('log-check-1');
    expect(line).toMatchObject({
      level: 'info',
      outcome: 'completed',
      queueWaitMs: expect.any(Number),
      timeToFirstTokenMs: expect.any(Number),
      promptTokens: expect.any(Number),
      completionTokens: 6,
      cachedPromptTokens: expect.any(Number),
      decodeTokensPerSecond: expect.any(Number),
      slotsBusy: expect.any(Number),
    });
  });

  it('answers unknown paths with a 404 error object', async () => {
    const response = await fetch(`${server.url}/nope`);

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('inference server with one slot and a queue of one', { timeout: TEST_TIMEOUT_MS }, () => {
  let server: InferenceServerHandle;

  beforeAll(async () => {
    // A long context, so the request holding the slot runs for seconds (thousands of tokens).
    server = await startInferenceServer({ env: { SEQUENCES: '1', MAX_QUEUE: '1', CONTEXT_SIZE: '32000' } });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
  });

  async function waitForQueued(count: number): Promise<void> {
    while (true) {
      const ping = await (await fetch(`${server.url}/ping`)).json();
      if (ping.queued === count) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function enginePredictedTokens(): Promise<number> {
    const metrics = await (await fetch(`${(await server.engine).url}/metrics`)).text();
    return Number(/^llamacpp:tokens_predicted_total (\d+)/m.exec(metrics)?.[1]);
  }

  it('answers 429 with retry-after when the queue is full; a disconnect stops the engine and frees the slot', async () => {
    const holdTokens = 30_000;
    const holder = new AbortController();
    const holding = await postJson(
      `${server.url}/invocations`,
      chatBody({ stream: true, max_tokens: holdTokens, ignore_eos: true }),
      { signal: holder.signal },
    );
    await holding.body?.getReader().read();
    const queuedResponse = postJson(
      `${server.url}/invocations`,
      chatBody({ stream: true, max_tokens: 3, ignore_eos: true }),
    );
    await waitForQueued(1);

    const rejected = await postJson(`${server.url}/invocations`, chatBody({ max_tokens: 3 }));

    expect(rejected.status).toBe(429);
    expect(Number(rejected.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await rejected.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'queue_full' } });

    holder.abort();
    const queued = await readStream(await queuedResponse);

    expect(queued.events.at(-1)).toBe('[DONE]');
    const cancelled = await server.waitForLog((l) => l.message === 'request' && l.outcome === 'cancelled');
    expect(cancelled).toBeDefined();
    // The engine stopped generating for the client that left: far fewer tokens than it asked for.
    expect(await enginePredictedTokens()).toBeLessThan(holdTokens / 2);
    const slots = await (await fetch(`${(await server.engine).url}/slots`)).json();
    expect(slots).toEqual([expect.objectContaining({ is_processing: false })]);
  });
});

describe('inference server with a request deadline', { timeout: TEST_TIMEOUT_MS }, () => {
  let server: InferenceServerHandle;

  beforeAll(async () => {
    server = await startInferenceServer({ env: { SEQUENCES: '1', REQUEST_DEADLINE_MS: '1' } });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
  });

  it('answers 504 deadline_exceeded when a request outlives its deadline, and frees the slot', async () => {
    const response = await postJson(
      `${server.url}/invocations`,
      chatBody({ max_tokens: 200, ignore_eos: true }),
    );

    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({
      error: { type: 'timeout_error', code: 'deadline_exceeded' },
    });
    const ping = await (await fetch(`${server.url}/ping`)).json();
    expect(ping).toMatchObject({ slots: { busy: 0, total: 1 }, queued: 0 });
  });
});

describe('inference server shutdown', { timeout: TEST_TIMEOUT_MS }, () => {
  it('drains an in-flight stream on SIGTERM, refuses new work, then exits 0', async () => {
    const server = await startInferenceServer({ env: { SEQUENCES: '2' } });
    const response = await postJson(
      `${server.url}/invocations`,
      chatBody({ stream: true, max_tokens: 200, ignore_eos: true, stream_options: { include_usage: true } }),
    );
    let stopped: Promise<number | null> | undefined;
    const streamed = readStream(response, () => {
      stopped ??= server.stop();
    });

    await server.waitForLog((l) => l.message === 'draining');
    const newWork = await fetch(`${server.url}/ping`).then(
      (r) => r.status,
      () => 'refused',
    );
    const result = await streamed;
    const exitCode = await stopped;

    expect([503, 'refused']).toContain(newWork);

    expect(result.events.at(-1)).toBe('[DONE]');
    expect(result.chunks.at(-1)).toMatchObject({ usage: { completion_tokens: 200 } });
    expect(exitCode).toBe(0);
    expect(server.logs.some((l) => l.message === 'draining')).toBe(true);
  });
});

describe('inference server and its engine', { timeout: TEST_TIMEOUT_MS }, () => {
  it('answers /ping 503 while the engine starts and 200 once it is healthy', async () => {
    // The engine binary waits behind a FIFO, so the test decides when llama-server really starts.
    const dir = await mkdtemp(join(tmpdir(), 'engine-gate-'));
    const gate = join(dir, 'gate');
    const wrapper = join(dir, 'llama-server');
    execFileSync('mkfifo', [gate]);
    await writeFile(wrapper, `#!/bin/sh\nread _ < '${gate}'\nexec '${await ensureEngine()}' "$@"\n`, {
      mode: 0o755,
    });
    const server = await startInferenceServer({ env: { LLAMA_SERVER: wrapper }, waitForEngine: false });
    try {
      const before = await fetch(`${server.url}/ping`);
      const invocation = await postJson(`${server.url}/invocations`, chatBody({ max_tokens: 2 }));

      expect(before.status).toBe(503);
      expect(await before.json()).toMatchObject({ status: 'loading' });
      expect(invocation.status).toBe(503);
      expect(await invocation.json()).toMatchObject({ error: { code: 'model_not_ready' } });

      await writeFile(gate, 'go\n');
      await server.engine;
      const after = await fetch(`${server.url}/ping`);

      expect(after.status).toBe(200);
      expect(await after.json()).toMatchObject({ status: 'healthy' });
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits non-zero when the engine dies, so SageMaker replaces the container', async () => {
    const server = await startInferenceServer({ env: { SEQUENCES: '1' } });
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', resolve));

    process.kill((await server.engine).pid, 'SIGKILL');

    expect(await exited).toBe(1);
    expect(server.logs.some((l) => l.message === 'engine exited' && l.signal === 'SIGKILL')).toBe(true);
  });
});
