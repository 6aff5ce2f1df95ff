/**
 * Output moderation through the real chat handler: the local model's answer words are blocklisted, so the same
 * question must end with `finish_reason: "content_filter"` without any of them reaching the client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvName } from '../../../lambdas/contracts/env';
import { answerWords, type ModeratedApi, mentions, QUESTION, REQUEST, startModeratedApi } from './harness';

let api: ModeratedApi;
let blockedWords: string[] = [];
const mentionsAny = (text: string) => blockedWords.some((word) => mentions(word, text));

beforeAll(async () => {
  blockedWords = await answerWords();
  api = await startModeratedApi({ [EnvName.moderationBlocklist]: blockedWords.join(',') });
});

afterAll(async () => {
  await api?.close();
});

describe('output moderation through the API (blocklist blocks)', () => {
  it('ends a streamed answer with finish_reason content_filter before a blocked word is shown', async () => {
    const stream = await (await api.client()).chat.completions.create({
      ...REQUEST,
      stream: true,
      messages: [{ role: 'user', content: QUESTION }],
    });
    let shown = '';
    const finishReasons: string[] = [];
    for await (const chunk of stream) {
      shown += chunk.choices[0]?.delta.content ?? '';
      const reason = chunk.choices[0]?.finish_reason;
      if (reason) finishReasons.push(reason);
    }
    expect(finishReasons).toEqual(['content_filter']);
    expect(mentionsAny(shown)).toBe(false);
  });

  it('ends a non-streamed answer with finish_reason content_filter, without the blocked words', async () => {
    const completion = await (await api.client()).chat.completions.create({
      ...REQUEST,
      messages: [{ role: 'user', content: QUESTION }],
    });
    expect(completion.choices[0]?.finish_reason).toBe('content_filter');
    expect(mentionsAny(completion.choices[0]?.message.content ?? '')).toBe(false);
  });

  it('refuses a blocklisted word on input with a 400 content_filter', async () => {
    const error = await (await api.client()).chat.completions
      .create({ ...REQUEST, messages: [{ role: 'user', content: `say ${blockedWords[0]} please` }] })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toMatchObject({ status: 400, code: 'content_filter' });
  });
});

describe('output moderation of the Responses API (the same pipeline)', () => {
  const request = {
    model: REQUEST.model,
    temperature: 0,
    max_output_tokens: REQUEST.max_tokens,
    input: QUESTION,
  };

  it('ends a response as incomplete (content_filter) without the blocked words', async () => {
    const response = await (await api.client()).responses.create(request);
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details?.reason).toBe('content_filter');
    expect(mentionsAny(response.output_text)).toBe(false);
  });

  it('ends a streamed response with response.incomplete before a blocked word is shown', async () => {
    const stream = await (await api.client()).responses.create({ ...request, stream: true });
    let shown = '';
    let last: string | undefined;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') shown += event.delta;
      last = event.type;
    }
    expect(last).toBe('response.incomplete');
    expect(mentionsAny(shown)).toBe(false);
  });

  it('refuses a blocklisted word on input with a 400 content_filter', async () => {
    const error = await (await api.client()).responses
      .create({ ...request, input: `say ${blockedWords[0]} please` })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toMatchObject({ status: 400, code: 'content_filter' });
  });
});
