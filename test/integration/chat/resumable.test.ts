/**
 * Resumable answers against the local stack and its inference server: a client that leaves after the first chunk
 * does not end the answer — it is stored whole, and a re-attached stream replays it from the start. (Stopping one
 * is in faults.test.ts, where the model can be held mid-answer.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { apiBase, callApi, machineToken } from '../setup/context';

let token: string;
beforeAll(async () => {
  token = await machineToken('a');
});

interface StoredMessage {
  id: string;
  role: string;
  content: string;
  status: string;
}

/** Starts a resumable streamed answer and reads until its first content chunk; returns the open reader. */
async function startAnswer(question: string, maxTokens: number) {
  const controller = new AbortController();
  const response = await fetch(`${apiBase()}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: [{ role: 'user', content: question }],
      stream: true,
      resumable: true,
      max_tokens: maxTokens,
    }),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const conversationId = response.headers.get('x-conversation-id') ?? '';
  const messageId = response.headers.get('x-message-id') ?? '';
  expect(messageId).toMatch(/^msg_[0-9a-f]{32}$/);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let received = '';
  while (!/"content":"[^"]/.test(received)) {
    const { value, done } = await reader.read();
    if (done) break;
    received += decoder.decode(value, { stream: true });
  }
  return { conversationId, messageId, leave: () => controller.abort() };
}

/** Reads a re-attached stream to its end: the content chunks' text and whether it ended with `[DONE]`. */
async function reattach(conversationId: string, messageId: string, after = 0) {
  const response = await fetch(
    `${apiBase()}/conversations/${conversationId}/messages/${messageId}/stream?after=${after}`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const lines = (await response.text()).split('\n').filter((line) => line.startsWith('data: '));
  const chunks = lines
    .filter((line) => line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice('data: '.length)));
  return {
    text: chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join(''),
    contentChunks: chunks.filter((chunk) => chunk.choices[0]?.delta?.content).length,
    done: lines.at(-1) === 'data: [DONE]',
    finish: chunks.at(-1)?.choices[0]?.finish_reason,
  };
}

async function storedAnswer(conversationId: string, messageId: string): Promise<StoredMessage | undefined> {
  const conversation = (await callApi(token, 'GET', `/conversations/${conversationId}`)).json();
  return (conversation.messages as StoredMessage[]).find((message) => message.id === messageId);
}

describe('resumable answers', () => {
  it('keep generating after the client leaves, and a re-attached stream replays the whole answer', async () => {
    const answer = await startAnswer(`Tell a long story (${crypto.randomUUID()}).`, 96);
    answer.leave();

    const replayed = await reattach(answer.conversationId, answer.messageId);

    expect(replayed.done).toBe(true);
    const stored = await storedAnswer(answer.conversationId, answer.messageId);
    expect(stored?.status).toBe('complete');
    expect(replayed.text).toBe(stored?.content);
    expect(replayed.text.length).toBeGreaterThan(0);
    // Re-attaching after it finished gives the same answer again; `after` skips pieces already received.
    expect((await reattach(answer.conversationId, answer.messageId)).text).toBe(replayed.text);
    const rest = await reattach(answer.conversationId, answer.messageId, 1);
    expect(replayed.text.endsWith(rest.text)).toBe(true);
    expect(rest.contentChunks).toBe(replayed.contentChunks - 1);
  });

  it('answers 404 naming message_id for a message the conversation does not have', async () => {
    const answer = await startAnswer(`Hi (${crypto.randomUUID()})`, 4);
    answer.leave();
    const response = await callApi(
      token,
      'GET',
      `/conversations/${answer.conversationId}/messages/msg_${'0'.repeat(32)}/stream`,
    );
    expect(response.status).toBe(404);
    expect(response.json().error).toMatchObject({ param: 'message_id' });
  });
});
