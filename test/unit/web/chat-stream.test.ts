import { describe, expect, it } from 'vitest';
import { announceableText, applyStreamData, initialStreamState } from '../../../web/src/chat-stream';
import { ApiRequestError } from '../../../web/src/errors';

const chunk = (delta: Record<string, unknown>, finish: string | null = null, usage: unknown = null) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    usage,
    conversation_id: 'conv_0123456789abcdef0123456789abcdef',
  });

describe('applyStreamData', () => {
  it('grows the answer chunk by chunk and records how it ended', () => {
    const payloads = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hello' }),
      chunk({ content: ', world' }),
      chunk({}, 'stop'),
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      }),
      '[DONE]',
    ];

    const seen: string[] = [];
    let state = initialStreamState;
    for (const payload of payloads) {
      state = applyStreamData(state, payload);
      seen.push(state.content);
    }

    expect(seen.slice(0, 3)).toEqual(['', 'Hello', 'Hello, world']);
    expect(state).toMatchObject({
      content: 'Hello, world',
      finishReason: 'stop',
      usage: { total_tokens: 8 },
      conversationId: 'conv_0123456789abcdef0123456789abcdef',
      done: true,
    });
  });

  it('keeps a content-filter ending', () => {
    const state = applyStreamData(
      applyStreamData(initialStreamState, chunk({ content: 'Sure' })),
      chunk({}, 'content_filter'),
    );

    expect(state.finishReason).toBe('content_filter');
    expect(state.content).toBe('Sure');
  });

  it('throws the API error carried by a mid-stream error event', () => {
    const event = JSON.stringify({
      error: { message: 'The model failed.', type: 'server_error', param: null, code: 'model_unavailable' },
    });

    expect(() => applyStreamData(initialStreamState, event)).toThrow(ApiRequestError);
    try {
      applyStreamData(initialStreamState, event);
    } catch (error) {
      expect((error as ApiRequestError).code).toBe('model_unavailable');
    }
  });
});

describe('announceableText', () => {
  it('announces whole sentences and holds back the one still streaming', () => {
    expect(announceableText('First sentence. Second one is', 0, false)).toBe('First sentence.');
    expect(announceableText('First sentence. Second one is', 15, false)).toBe('');
    expect(announceableText('First sentence. Second one is done', 15, true)).toBe(' Second one is done');
  });

  it('does not split a decimal number', () => {
    expect(announceableText('Pi is 3.14 roughly', 0, false)).toBe('');
  });
});

describe('citations', () => {
  it('are taken from the citations chunk, and malformed entries are dropped', () => {
    const citation = { file_id: 'file-1', filename: 'a.pdf', chunk_id: 'file-1:0', text: 'The fact.' };
    const state = applyStreamData(
      initialStreamState,
      JSON.stringify({ choices: [], citations: [citation, { file_id: 3 }], conversation_id: 'conv_1' }),
    );
    expect(state.citations).toEqual([citation]);
    const after = applyStreamData(
      state,
      JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } }),
    );
    expect(after.citations).toEqual([citation]);
    expect(applyStreamData(initialStreamState, '{"choices":[]}').citations).toBeUndefined();
  });
});
