/**
 * Regenerate against the local stack: the conversation's last answer is replaced, so a reload shows the question
 * once with the new answer; requests that cannot be regenerated get a 4xx error object naming the field.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { apiBase, machineToken } from '../setup/context';

let token: string;
beforeAll(async () => {
  token = await machineToken('a');
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${apiBase()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

interface StoredMessage {
  id: string;
  role: string;
  content: string;
}

describe('regenerating the last answer', () => {
  it('replaces the stored answer: the conversation reads back as the question once and the new answer', async () => {
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
    expect(conversation.message_count).toBe(2);
    expect(conversation.messages.map((message: StoredMessage) => [message.role, message.content])).toEqual([
      ['user', question],
      ['assistant', newText],
    ]);
    expect((conversation.messages[1] as StoredMessage).id).not.toBe(oldAnswer.id);
  });

  it('streams the new answer like any turn and stores it in place of the old one', async () => {
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
    const messages = (await call('GET', `/conversations/${conversationId}`)).json()
      .messages as StoredMessage[];
    expect(messages.map((message) => [message.role, message.content])).toEqual([
      ['user', question],
      ['assistant', newText],
    ]);
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
