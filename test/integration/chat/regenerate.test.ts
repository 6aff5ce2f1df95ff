/**
 * Regenerate against the local stack: the new answer is a sibling of the last one, so a reload shows the question
 * once with the new answer active and the old one still stored; requests that cannot be regenerated get a 4xx
 * error object naming the field.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { callApi, machineToken } from '../setup/context';

let token: string;
beforeAll(async () => {
  token = await machineToken('a');
});

const call = (method: string, path: string, body?: unknown) => callApi(token, method, path, body);

interface StoredMessage {
  id: string;
  parent_id: string | null;
  role: string;
  content: string;
}

describe('regenerating the last answer', () => {
  it('adds a sibling answer: the question once, the new answer active, the old one kept', async () => {
    const question = `Name a fruit (${crypto.randomUUID()}).`;
    const first = await call('POST', '/chat/completions', {
      messages: [{ role: 'user', content: question }],
      max_tokens: 8,
      seed: 1,
    });
    expect(first.status, first.text).toBe(200);
    const conversationId: string = first.json().conversation_id;
    const before = (await call('GET', `/conversations/${conversationId}`)).json();
    const oldAnswer = before.messages.at(-1) as StoredMessage;

    const regenerated = await call('POST', '/chat/completions', {
      messages: [],
      conversation_id: conversationId,
      regenerate: true,
      max_tokens: 8,
      temperature: 1,
      seed: 2,
    });

    expect(regenerated.status, regenerated.text).toBe(200);
    const newText: string = regenerated.json().choices[0].message.content;
    const after = await call('GET', `/conversations/${conversationId}`);
    expect(after.status).toBe(200);
    const conversation = after.json();
    expect(conversation.message_count).toBe(3);
    expect(conversation.messages.map((message: StoredMessage) => [message.role, message.content])).toEqual([
      ['user', question],
      ['assistant', oldAnswer.content],
      ['assistant', newText],
    ]);
    const newAnswer = conversation.messages[2] as StoredMessage;
    expect(newAnswer.id).not.toBe(oldAnswer.id);
    expect(newAnswer.parent_id).toBe(oldAnswer.parent_id);
    expect(conversation.current_message_id).toBe(newAnswer.id);
  });

  it('streams the new answer like any turn and stores it beside the old one', async () => {
    const question = `Name a tree (${crypto.randomUUID()}).`;
    const first = await call('POST', '/chat/completions', {
      messages: [{ role: 'user', content: question }],
      max_tokens: 8,
    });
    const conversationId: string = first.json().conversation_id;

    const streamed = await call('POST', '/chat/completions', {
      messages: [],
      conversation_id: conversationId,
      regenerate: true,
      stream: true,
      max_tokens: 8,
    });

    expect(streamed.status, streamed.text).toBe(200);
    const chunks = streamed.text
      .split('\n')
      .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
      .map((line) => JSON.parse(line.slice('data: '.length)));
    const newText = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
    const conversation = (await call('GET', `/conversations/${conversationId}`)).json();
    const messages = conversation.messages as StoredMessage[];
    expect(messages.map((message) => [message.role, message.content])).toEqual([
      ['user', question],
      ['assistant', first.json().choices[0].message.content],
      ['assistant', newText],
    ]);
    expect(conversation.current_message_id).toBe(messages[2]?.id);
  });
});

describe('a regenerate request that cannot be served', () => {
  it('answers 404 naming conversation_id for an unknown conversation', async () => {
    const response = await call('POST', '/chat/completions', {
      messages: [],
      conversation_id: `conv_${'f'.repeat(32)}`,
      regenerate: true,
    });
    expect(response.status).toBe(404);
    expect(response.json().error).toMatchObject({ type: 'not_found_error', param: 'conversation_id' });
  });

  it.each([
    ['without conversation_id', { messages: [], regenerate: true }, 'conversation_id'],
    [
      'with new messages',
      {
        messages: [{ role: 'user', content: 'Hi' }],
        conversation_id: `conv_${'e'.repeat(32)}`,
        regenerate: true,
      },
      'messages',
    ],
    ['with no messages and no regenerate flag', { messages: [] }, 'messages'],
  ])('answers 400 naming the field %s', async (_case, body, param) => {
    const response = await call('POST', '/chat/completions', body);
    expect(response.status).toBe(400);
    expect(response.json().error).toMatchObject({ type: 'invalid_request_error', param });
  });
});
