/**
 * Output redaction through the real chat handler: with the blocklist set to redact on output, the local model's
 * answer words arrive as `[REDACTED:blocklist]` in the stream, the answer completes normally, and the stored
 * answer holds the redacted text.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConversationWithMessages } from '../../../lambdas/contracts/api';
import { EnvName } from '../../../lambdas/contracts/env';
import { machineToken } from '../setup/context';
import { answerWords, type ModeratedApi, mentions, QUESTION, REQUEST, startModeratedApi } from './harness';

let api: ModeratedApi;
let redactedWords: string[] = [];
const mentionsAny = (text: string) => redactedWords.some((word) => mentions(word, text));

beforeAll(async () => {
  redactedWords = await answerWords();
  api = await startModeratedApi({
    [EnvName.moderationBlocklist]: redactedWords.join(','),
    [EnvName.moderationRules]: JSON.stringify({ blocklist: { output: 'redact' } }),
  });
});

afterAll(async () => {
  await api?.close();
});

describe('output moderation through the API (blocklist redacts)', () => {
  it('streams the answer with the words redacted and stores the redacted answer', async () => {
    const { data: stream, response } = await (await api.client()).chat.completions
      .create({ ...REQUEST, stream: true, messages: [{ role: 'user', content: QUESTION }] })
      .withResponse();
    let shown = '';
    const finishReasons: string[] = [];
    for await (const chunk of stream) {
      shown += chunk.choices[0]?.delta.content ?? '';
      const reason = chunk.choices[0]?.finish_reason;
      if (reason) finishReasons.push(reason);
    }
    expect(shown).toContain('[REDACTED:blocklist]');
    expect(mentionsAny(shown)).toBe(false);
    expect(finishReasons).toHaveLength(1);
    expect(finishReasons[0]).not.toBe('content_filter');

    // The answer is stored once the stream has ended: wait for it.
    const conversationId = response.headers.get('x-conversation-id');
    const token = await machineToken('a');
    await vi.waitFor(
      async () => {
        const res = await fetch(`${api.url}/v1/conversations/${conversationId}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const stored = ConversationWithMessages.parse(await res.json());
        const answer = stored.messages.find((message) => message.role === 'assistant');
        expect(answer?.content).toBe(shown);
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});
