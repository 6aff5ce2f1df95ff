/**
 * Property-based: thousands of malformed bodies, headers and ids at every endpoint. Every answer is a 4xx with
 * the OpenAI error object — never a 5xx, never a crash — and nothing is written.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatCompletionRequest } from '../../../lambdas/contracts/api';
import { ResponseCreateRequest } from '../../../lambdas/contracts/responses';
import { apiBase, machineToken } from '../setup/context';

let token: string;
/** The caller's data before the fuzzing: what existed then must be exactly the same afterwards. */
let before: StoredData;
beforeAll(async () => {
  token = await machineToken('b');
  before = await storedData();
});

interface StoredData {
  readonly conversations: unknown[];
  readonly jobs: unknown[];
  readonly responses: unknown[];
}

/** Conversations (with titles and messages) and jobs, as the caller's export has them. */
async function storedData(): Promise<StoredData> {
  const response = await fetch(`${apiBase()}/me/export`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  const { conversations, jobs, responses } = (await response.json()) as StoredData;
  return { conversations, jobs, responses };
}

/** Every fuzzed message carries this marker: after the run, the caller's export must not contain it. */
const MARKER = `fuzz-${crypto.randomUUID()}`;

async function send(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${apiBase()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: response.status, text: await response.text() };
}

function expectErrorObject(response: { status: number; text: string }) {
  expect(response.status, response.text).toBeGreaterThanOrEqual(400);
  expect(response.status, response.text).toBeLessThan(500);
  const body = JSON.parse(response.text) as { error?: { message?: unknown; type?: unknown } };
  expect(typeof body.error?.message).toBe('string');
  expect(typeof body.error?.type).toBe('string');
}

const validMessage = { role: 'user', content: MARKER };

/** A chat request broken in one way: a wrong value in a known field, or an unknown field. */
const brokenChatBody = fc.oneof(
  fc.record({
    messages: fc.oneof(
      fc.constant([]),
      // After a valid message carrying the marker, so a write of this case would show in the export.
      fc.array(fc.anything(), { minLength: 1, maxLength: 3 }).map((items) => [validMessage, ...items]),
      fc.constant(Array.from({ length: 51 }, () => validMessage)),
      fc.constant([{ role: 'user', content: `${MARKER}${'x'.repeat(16_001)}` }]),
      fc.constant([{ role: 'tool', content: MARKER }]),
      fc.constant([{ ...validMessage, extra: 1 }]),
    ),
  }),
  fc.record({
    messages: fc.constant([validMessage]),
    max_tokens: fc.oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: 1_000_000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Number.isInteger(value)),
      fc.string(),
    ),
  }),
  fc.record({
    messages: fc.constant([validMessage]),
    conversation_id: fc.oneof(fc.string(), fc.constant(`conv_${'0'.repeat(32)}`), fc.integer()),
  }),
  fc.record({
    messages: fc.constant([validMessage]),
    temperature: fc.oneof(fc.double({ min: 2.01, max: 1e9, noNaN: true }), fc.string()),
  }),
  fc.record({ messages: fc.constant([validMessage]), stream: fc.oneof(fc.string(), fc.integer()) }),
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.jsonValue())
    .filter(([key]) => !['messages', 'model', 'stream', 'user', '__proto__'].includes(key))
    .map(([key, value]) => ({ messages: [validMessage], [`x_${key}`]: value })),
);

const toolCall = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } };
const weatherTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } };

/** A malformed value of each field of the OpenAI surface, and the field the 400 must name. */
const BROKEN_FIELDS: readonly (readonly [string, Record<string, unknown>])[] = [
  ['response_format', { response_format: { type: 'json_schema' } }],
  ['response_format', { response_format: { type: 'xml' } }],
  ['response_format', { response_format: { type: 'json_schema', json_schema: { name: 'a b' } } }],
  ['tools', { tools: [{ type: 'function' }] }],
  ['tools', { tools: [{ type: 'custom', custom: { name: 'grep' } }] }],
  ['tools', { tools: Array.from({ length: 129 }, () => weatherTool) }],
  ['tools', { tools: [{ type: 'function', function: { name: 'has space' } }] }],
  ['tool_choice', { tool_choice: 'sometimes' }],
  ['tool_choice', { tool_choice: 'required' }],
  ['tool_choice', { tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'other' } } }],
  ['parallel_tool_calls', { parallel_tool_calls: 'yes' }],
  ['logprobs', { logprobs: 1 }],
  ['top_logprobs', { logprobs: true, top_logprobs: 21 }],
  ['top_logprobs', { top_logprobs: 2 }],
  ['logit_bias', { logit_bias: { abc: 1 } }],
  ['logit_bias', { logit_bias: { '50256': 101 } }],
  ['n', { n: 2 }],
  ['seed', { seed: 1.5 }],
  ['stop', { stop: ['a', 'b', 'c', 'd', 'e'] }],
  ['presence_penalty', { presence_penalty: 3 }],
  ['reasoning_effort', { reasoning_effort: 'extreme' }],
  ['service_tier', { service_tier: 'gold' }],
  ['store', { store: 'yes' }],
  ['metadata', { metadata: { key: 1 } }],
  ['prompt_cache_key', { prompt_cache_key: 5 }],
  ['prompt_cache_retention', { prompt_cache_retention: 'forever' }],
  ['safety_identifier', { safety_identifier: {} }],
  ['verbosity', { verbosity: 'loud' }],
  ['modalities', { modalities: ['video'] }],
  ['audio', { audio: { voice: 1, format: 'mp3' } }],
  ['prediction', { prediction: { type: 'diff', content: 'x' } }],
  ['web_search_options', { web_search_options: { search_context_size: 'huge' } }],
  ['functions', { functions: 'all' }],
  ['function_call', { function_call: 5 }],
  ['moderation', { moderation: { policy: {} } }],
  ['stream_options', { stream_options: { include_usage: 'y' } }],
  ['max_completion_tokens', { max_completion_tokens: 0 }],
  ['messages[1]', { messages: [validMessage, { role: 'assistant', tool_calls: [{ ...toolCall, id: '' }] }] }],
  [
    'messages[1]',
    { messages: [validMessage, { role: 'assistant', tool_calls: [{ ...toolCall, type: 'x' }] }] },
  ],
  ['messages[1]', { messages: [validMessage, { role: 'tool', content: MARKER }] }],
  [
    'messages[0]',
    { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
  ],
  ['messages[0]', { messages: [{ role: 'function', name: 'f', content: MARKER }] }],
];

const junkText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.constant('{"messages":'),
  fc.constant(`{"messages":[{"role":"user","content":"${MARKER}"}]`),
);

describe('POST /v1/chat/completions', () => {
  it('answers broken request bodies with a 4xx error object', async () => {
    await fc.assert(
      fc.asyncProperty(brokenChatBody, async (body) => {
        expectErrorObject(await send('POST', '/chat/completions', { body: JSON.stringify(body) }));
      }),
      { numRuns: 400 },
    );
  });

  it.each(BROKEN_FIELDS)('answers a malformed %s with a 400 naming it', async (field, fields) => {
    const response = await send('POST', '/chat/completions', {
      body: JSON.stringify({ messages: [validMessage], max_tokens: 4, ...fields }),
    });
    expectErrorObject(response);
    expect(response.status).toBe(400);
    const { error } = JSON.parse(response.text) as { error: { param: string | null } };
    expect(
      error.param === field || error.param?.startsWith(`${field}.`) || error.param?.startsWith(`${field}[`),
    ).toBe(true);
  });

  it('answers broken values of the tool, format and sampling fields with a 4xx error object', async () => {
    const surfaceField = fc
      .record({
        field: fc.constantFrom(
          'response_format',
          'tools',
          'tool_choice',
          'parallel_tool_calls',
          'logit_bias',
          'logprobs',
          'top_logprobs',
          'reasoning_effort',
          'metadata',
          'service_tier',
          'prediction',
          'web_search_options',
          'audio',
          'modalities',
        ),
        value: fc.anything(),
      })
      // As sent: through JSON (an `Infinity` becomes null, `undefined` disappears).
      .map(
        ({ field, value }) =>
          JSON.parse(JSON.stringify({ messages: [validMessage], [field]: value })) as unknown,
      )
      // Values the contract accepts (e.g. `logprobs: false`) are answered: only broken ones are this test's.
      .filter((body) => !ChatCompletionRequest.safeParse(body).success);
    await fc.assert(
      fc.asyncProperty(surfaceField, async (body) => {
        expectErrorObject(await send('POST', '/chat/completions', { body: JSON.stringify(body) }));
      }),
      { numRuns: 150 },
    );
  });

  it('answers bodies that are not JSON objects with a 4xx error object', async () => {
    await fc.assert(
      fc.asyncProperty(junkText, async (body) => {
        expectErrorObject(await send('POST', '/chat/completions', { body }));
      }),
      { numRuns: 300 },
    );
  });

  it('answers malformed Idempotency-Key headers with a 4xx error object', async () => {
    const badKey = fc.oneof(
      fc.string({ minLength: 256, maxLength: 300 }).filter((key) => /^[\x21-\x7e]+$/.test(key)),
      fc.stringMatching(/^[a-z]{1,5} [a-z]{1,5}$/),
    );
    await fc.assert(
      fc.asyncProperty(badKey, async (key) => {
        expectErrorObject(
          await send('POST', '/chat/completions', {
            body: JSON.stringify({ messages: [validMessage], max_tokens: 4 }),
            headers: { 'idempotency-key': key },
          }),
        );
      }),
      { numRuns: 100 },
    );
  });
});

const validInput = [{ role: 'user', content: MARKER }];

/** A Responses request broken in one way: a wrong value in a known field, or an unknown field. */
const brokenResponsesBody = fc
  .oneof(
    fc.record({
      input: fc.oneof(
        fc.constant([]),
        fc.constant(''.padEnd(16_001, MARKER)),
        // After a valid message carrying the marker, so a write of this case would show in the export.
        fc.array(fc.anything(), { minLength: 1, maxLength: 3 }).map((items) => [...validInput, ...items]),
        fc.constant(Array.from({ length: 51 }, () => validInput[0])),
        fc.constant([...validInput, { type: 'item_reference', id: 'msg_1' }]),
        fc.constant([{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x' }] }]),
        fc.constant([...validInput, { type: 'function_call_output', output: MARKER }]),
        fc.constant([{ role: 'tool', content: MARKER }]),
        fc.integer(),
      ),
    }),
    fc.record({
      input: fc.constant(validInput),
      max_output_tokens: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 1_000_000 }), fc.string()),
    }),
    fc.record({
      input: fc.constant(validInput),
      previous_response_id: fc.oneof(fc.string(), fc.constant(`resp_${'0'.repeat(32)}`), fc.integer()),
    }),
    fc.record({
      input: fc.constant(validInput),
      temperature: fc.oneof(fc.double({ min: 2.01, max: 1e9, noNaN: true }), fc.string()),
    }),
    fc.record({
      input: fc.constant(validInput),
      text: fc.anything().filter((value) => value !== undefined && value !== null),
    }),
    fc.record({
      input: fc.constant(validInput),
      tools: fc.array(fc.anything(), { minLength: 1, maxLength: 2 }),
    }),
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.jsonValue())
      .filter(([key]) => !['input', 'model', 'stream', 'user', '__proto__'].includes(key))
      .map(([key, value]) => ({ input: validInput, [`x_${key}`]: value })),
  )
  // As sent: through JSON. Values the contract accepts (e.g. `text: {}`) are answered: only broken ones are this test's.
  .map((body) => JSON.parse(JSON.stringify(body)) as unknown)
  .filter((body) => !ResponseCreateRequest.safeParse(body).success);

/** A malformed value of each field of the Responses request, and the field the 400 must name. */
const BROKEN_RESPONSE_FIELDS: readonly (readonly [string, Record<string, unknown>])[] = [
  ['input', { input: [] }],
  ['input[1]', { input: [...validInput, { type: 'item_reference', id: 'msg_1' }] }],
  ['input[0]', { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] }],
  ['instructions', { instructions: 5 }],
  ['tools[0]', { tools: [{ type: 'web_search' }] }],
  ['tools[0]', { tools: [{ type: 'function', name: 'has space' }] }],
  ['tool_choice', { tool_choice: 'sometimes' }],
  ['tool_choice', { tool_choice: 'required' }],
  ['tool_choice', { tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'function', name: 'g' } }],
  ['text.format', { text: { format: { type: 'json_schema' } } }],
  ['text.format', { text: { format: { type: 'xml' } } }],
  ['max_output_tokens', { max_output_tokens: 0 }],
  ['temperature', { temperature: 3 }],
  ['top_p', { top_p: -1 }],
  ['metadata', { metadata: { key: 1 } }],
  ['store', { store: 'yes' }],
  ['background', { background: true, store: false }],
  ['previous_response_id', { previous_response_id: 'resp_nope' }],
  ['previous_response_id', { previous_response_id: `resp_${'0'.repeat(32)}` }],
  ['reasoning.effort', { reasoning: { effort: 'extreme' } }],
  ['include[0]', { include: ['everything'] }],
  ['truncation', { truncation: 'sometimes' }],
  ['parallel_tool_calls', { parallel_tool_calls: 'yes' }],
  ['stream_options', { stream_options: { include_usage: true } }],
];

describe('POST /v1/responses', () => {
  it('answers broken request bodies with a 4xx error object', async () => {
    await fc.assert(
      fc.asyncProperty(brokenResponsesBody, async (body) => {
        expectErrorObject(await send('POST', '/responses', { body: JSON.stringify(body) }));
      }),
      { numRuns: 300 },
    );
  });

  it.each(BROKEN_RESPONSE_FIELDS)('answers a malformed %s with a 4xx naming it', async (field, fields) => {
    const response = await send('POST', '/responses', {
      body: JSON.stringify({ input: validInput, max_output_tokens: 4, ...fields }),
    });
    expectErrorObject(response);
    const { error } = JSON.parse(response.text) as { error: { param: string | null } };
    expect(
      error.param === field || error.param?.startsWith(`${field}.`) || error.param?.startsWith(`${field}[`),
      error.param ?? 'null',
    ).toBe(true);
  });

  it('answers bodies that are not JSON objects with a 4xx error object', async () => {
    await fc.assert(
      fc.asyncProperty(junkText, async (body) => {
        expectErrorObject(await send('POST', '/responses', { body }));
      }),
      { numRuns: 150 },
    );
  });
});

describe('stored response endpoints', () => {
  const id = fc.oneof(
    fc.string({ minLength: 1, maxLength: 60 }).map(encodeURIComponent),
    fc.stringMatching(/^resp_[0-9a-f]{32}$/),
  );

  it('answer unknown or malformed ids and queries with a 4xx error object', async () => {
    const call = fc.constantFrom(
      ['GET', ''],
      ['GET', '?stream=true'],
      ['GET', '?starting_after=x'],
      ['DELETE', ''],
      ['GET', '/input_items'],
      ['GET', '/input_items?limit=0'],
      ['POST', '/cancel'],
    );
    await fc.assert(
      fc.asyncProperty(id, call, async (responseId, [method, rest]) => {
        expectErrorObject(await send(method, `/responses/${responseId}${rest}`));
      }),
      { numRuns: 100 },
    );
  });
});

describe('every endpoint', () => {
  it('answers garbage bearer tokens with a 401 error object', async () => {
    const paths = fc.constantFrom(
      ['POST', '/chat/completions'],
      ['GET', '/models'],
      ['GET', '/conversations'],
      ['GET', '/me/export'],
      ['DELETE', '/me'],
      ['POST', '/responses'],
    );
    await fc.assert(
      fc.asyncProperty(
        paths,
        fc.stringMatching(/^[A-Za-z0-9._-]{0,200}$/),
        async ([method, path], garbage) => {
          const response = await fetch(`${apiBase()}${path}`, {
            method,
            headers: { authorization: `Bearer ${garbage}`, 'content-type': 'application/json' },
            ...(method === 'POST' ? { body: JSON.stringify({ messages: [validMessage] }) } : {}),
          });
          const text = await response.text();
          expect(response.status, text).toBe(401);
          expect(typeof JSON.parse(text).error.message).toBe('string');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('conversation endpoints', () => {
  const id = fc.oneof(
    fc.string({ minLength: 1, maxLength: 60 }).map(encodeURIComponent),
    fc.stringMatching(/^conv_[0-9a-f]{32}$/),
    fc.constant('%2e%2e'),
  );

  it('answer unknown or malformed ids with a 4xx error object', async () => {
    await fc.assert(
      fc.asyncProperty(id, fc.constantFrom('GET', 'DELETE'), async (conversationId, method) => {
        expectErrorObject(await send(method, `/conversations/${conversationId}`));
      }),
      { numRuns: 300 },
    );
  });

  it('answer broken renames with a 4xx error object', async () => {
    await fc.assert(
      fc.asyncProperty(
        id,
        fc.oneof(
          junkText,
          fc.jsonValue().map((value) => JSON.stringify({ title: value })),
        ),
        async (conversationId, body) => {
          expectErrorObject(await send('PATCH', `/conversations/${conversationId}`, { body }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answer broken list queries with a 4xx error object', async () => {
    const query = fc.oneof(
      fc
        .integer()
        .filter((limit) => limit < 1 || limit > 100)
        .map((limit) => `limit=${limit}`),
      fc.string({ minLength: 1 }).map((cursor) => `cursor=${encodeURIComponent(cursor)}`),
      fc
        .string({ minLength: 1, maxLength: 10 })
        .filter((name) => /^[a-z]+$/.test(name) && !['limit', 'cursor'].includes(name))
        .map((name) => `${name}=1`),
    );
    await fc.assert(
      fc.asyncProperty(query, async (search) => {
        expectErrorObject(await send('GET', `/conversations?${search}`));
      }),
      { numRuns: 300 },
    );
  });
});

describe('me endpoints', () => {
  it('answer broken usage queries with a 4xx error object', async () => {
    const query = fc.oneof(
      fc
        .integer()
        .filter((days) => days < 1 || days > 366)
        .map((days) => `days=${days}`),
      fc
        .string({ minLength: 1 })
        .filter((value) => !/^\d+$/.test(value.trim()))
        .map((value) => `days=${encodeURIComponent(value)}`),
    );
    await fc.assert(
      fc.asyncProperty(query, async (search) => {
        expectErrorObject(await send('GET', `/me/usage?${search}`));
      }),
      { numRuns: 200 },
    );
  });
});

describe('after all of that', () => {
  it('nothing was written, by any generated case', async () => {
    const exported = await send('GET', '/me/export');
    expect(exported.status).toBe(200);
    expect(exported.text).not.toContain(MARKER);
    // Beyond the marker: no conversation that existed before changed (title, messages), no job appeared or moved.
    // (Another test file may add conversations of this caller meanwhile; it never touches these.)
    const after = await storedData();
    const byId = (data: StoredData) =>
      new Map(data.conversations.map((conversation) => [(conversation as { id: string }).id, conversation]));
    const afterById = byId(after);
    for (const [id, conversation] of byId(before)) expect(afterById.get(id)).toEqual(conversation);
    expect(after.jobs).toEqual(before.jobs);
    // Responses other test files store for this caller may appear meanwhile; every earlier one is unchanged.
    for (const response of before.responses) expect(after.responses).toContainEqual(response);
  });
});
