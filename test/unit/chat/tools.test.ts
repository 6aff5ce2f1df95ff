import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import type { FakeBehaviour, FakeModel } from '../inference/fake-model';
import {
  apiEvent,
  invokeStreaming,
  sseEvents,
  startChatHarness,
  TABLE_NAME,
  type TestTable,
} from './harness';

/**
 * Tool calls, reasoning and logprobs as an engine streams them, through the handler: relayed in OpenAI's shape,
 * moderated like any output, stored one item per message.
 */
let table: TestTable;
let model: FakeModel;
let handler: unknown;
let close: () => Promise<void>;
let plan: FakeBehaviour = { kind: 'answer', tokens: ['Hi'] };

beforeAll(async () => {
  ({ table, model, handler, close } = await startChatHarness(() => plan));
});
afterAll(() => close());

const sub = () => `user-${crypto.randomUUID()}`;
const tools = [{ type: 'function', function: { name: 'send_mail', parameters: { type: 'object' } } }];

function chunk(delta: object, finishReason: string | null = null, logprobs: object | null = null) {
  return { choices: [{ index: 0, delta, finish_reason: finishReason, logprobs }] };
}

/** The engine's chunks of one streamed call of `send_mail`: its opening fragment, then the rest of its arguments. */
function toolCallChunks(id: string, fragments: readonly string[]) {
  const [first = '', ...rest] = fragments;
  return [
    chunk({ role: 'assistant', content: '' }),
    chunk({
      tool_calls: [{ index: 0, id, type: 'function', function: { name: 'send_mail', arguments: first } }],
    }),
    ...rest.map((fragment) => chunk({ tool_calls: [{ index: 0, function: { arguments: fragment } }] })),
    chunk({}, 'tool_calls'),
  ];
}

function chatEvent(user: string, body: unknown) {
  return apiEvent({
    method: 'POST',
    resource: '/v1/chat/completions',
    path: '/v1/chat/completions',
    sub: user,
    body: JSON.stringify(body),
  });
}

async function storedMessages(user: string) {
  const result = await table.db.send(
    new QueryCommand({
      TableName: TABLE_NAME,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.userPartition(user) },
    }),
  );
  return (result.Items ?? [])
    .filter((item) => item.type === 'message')
    .sort((a, b) => a.sequence - b.sequence);
}

describe('tool calls through the chat handler', () => {
  it('streams tool-call fragments with index, id and name, ends on tool_calls and stores the call', async () => {
    plan = {
      kind: 'chunks',
      chunks: toolCallChunks('call_abc', ['{"to":"', 'jane.doe@', 'example.com","body":"hi"}']),
    };
    const user = sub();
    const response = await invokeStreaming(
      handler,
      chatEvent(user, { messages: [{ role: 'user', content: 'Mail Jane.' }], tools, stream: true }),
    );
    const chunks = sseEvents(response.body)
      .filter((data) => data !== '[DONE]')
      .map((data) => JSON.parse(data));
    const fragments = chunks.flatMap((one) => one.choices[0]?.delta.tool_calls ?? []);
    expect(fragments[0]).toEqual({
      index: 0,
      id: 'call_abc',
      type: 'function',
      function: { name: 'send_mail', arguments: '' },
    });
    const args = fragments
      .map((fragment: { function: { arguments?: string } }) => fragment.function.arguments ?? '')
      .join('');
    expect(JSON.parse(args)).toEqual({ to: 'jane.doe@example.com', body: 'hi' });
    expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls');

    const stored = await storedMessages(user);
    expect(stored.map((item) => item.role)).toEqual(['user', 'assistant']);
    expect(stored[1]?.toolCalls).toEqual([
      { id: 'call_abc', type: 'function', function: { name: 'send_mail', arguments: args } },
    ]);
  });

  it('ends on content_filter when a tool call argument is blocked, and stores no call', async () => {
    plan = { kind: 'chunks', chunks: toolCallChunks('call_card', ['{"body":"4111 ', '1111 1111 1111"}']) };
    const user = sub();
    const response = await invokeStreaming(
      handler,
      chatEvent(user, { messages: [{ role: 'user', content: 'Mail my card.' }], tools }),
    );
    const completion = JSON.parse(response.body);
    expect(completion.choices[0].finish_reason).toBe('content_filter');
    expect(completion.choices[0].message.tool_calls).toBeUndefined();
    expect(response.body).not.toContain('4111');
    const stored = await storedMessages(user);
    expect(stored[1]).toMatchObject({ status: 'content_filter' });
    expect(stored[1]?.toolCalls).toBeUndefined();
  });

  it('relays reasoning apart from the answer and stores it apart', async () => {
    plan = {
      kind: 'chunks',
      chunks: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ reasoning_content: 'Think first. ' }),
        chunk({ content: 'Answer.' }),
        chunk({}, 'stop'),
      ],
    };
    const user = sub();
    const response = await invokeStreaming(
      handler,
      chatEvent(user, { messages: [{ role: 'user', content: 'Q?' }] }),
    );
    const completion = JSON.parse(response.body);
    expect(completion.choices[0].message).toMatchObject({
      content: 'Answer.',
      reasoning_content: 'Think first. ',
    });
    const stored = await storedMessages(user);
    expect(stored[1]).toMatchObject({ content: 'Answer.', reasoning: 'Think first. ' });
  });

  it('returns the engine logprobs in OpenAI shape', async () => {
    const entry = {
      token: 'A',
      logprob: -0.5,
      bytes: [65],
      top_logprobs: [{ token: 'A', logprob: -0.5, bytes: [65] }],
    };
    plan = {
      kind: 'chunks',
      chunks: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'A' }, null, { content: [entry] }),
        chunk({}, 'stop'),
      ],
    };
    const response = await invokeStreaming(
      handler,
      chatEvent(sub(), { messages: [{ role: 'user', content: 'Q?' }], logprobs: true, top_logprobs: 1 }),
    );
    const completion = JSON.parse(response.body);
    expect(completion.choices[0].logprobs).toEqual({ content: [entry], refusal: null });
    const sent = model.requests.at(-1);
    expect(sent).toMatchObject({ logprobs: true, top_logprobs: 1 });
  });

  it('sends tool calls and (moderated) results of the history to the model, and tool_choice none without the tools', async () => {
    plan = { kind: 'answer', tokens: ['ok'] };
    const call = { id: 'call_1', type: 'function', function: { name: 'send_mail', arguments: '{"to":"x"}' } };
    await invokeStreaming(
      handler,
      chatEvent(sub(), {
        messages: [
          { role: 'user', content: 'Mail.' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: 'call_1', content: 'sent, card 4111 1111 1111 1111' },
        ],
        tools,
        tool_choice: 'none',
      }),
    );
    const sent = model.requests.at(-1) as { messages: object[]; tools?: unknown };
    expect(sent.messages.slice(-3)).toEqual([
      { role: 'user', content: 'Mail.' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', content: 'sent, card [REDACTED:card]', tool_call_id: 'call_1' },
    ]);
    expect(sent.tools).toBeUndefined();
  });
});
