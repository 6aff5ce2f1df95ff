import { describe, expect, it } from 'vitest';
import { ChunkTranslator, CompletionCollector, engineEvents } from '../../../gpu-endpoint/src/relay';

const meta = { id: 'chatcmpl-1', created: 1, model: 'tiny' };
const token = (content: string) => ({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const finish = (reason: string) => ({ choices: [{ index: 0, delta: {}, finish_reason: reason }] });
const usage = {
  choices: [],
  usage: { prompt_tokens: 10, completion_tokens: 3 },
  timings: { cache_n: 8, prompt_n: 2 },
};

function run(translator: ChunkTranslator, events: Record<string, unknown>[]) {
  const collector = new CompletionCollector();
  collector.add(translator.opening());
  for (const event of events) for (const chunk of translator.push(event)) collector.add(chunk);
  return collector;
}

async function* bytes(text: string) {
  // Split anywhere, even inside a line: the reader must buffer.
  for (let i = 0; i < text.length; i += 7) yield new TextEncoder().encode(text.slice(i, i + 7));
}

describe('the relay from llama-server', () => {
  it('reads SSE events split at arbitrary byte boundaries and stops at [DONE]', async () => {
    const wire = `data: ${JSON.stringify(token('a'))}\n\ndata: ${JSON.stringify(token('b'))}\n\ndata: [DONE]\n\n`;
    const events = [];
    for await (const event of engineEvents(bytes(wire))) events.push(event);

    expect(events).toEqual([token('a'), token('b')]);
  });

  it('turns an error event into an HTTP error with the engine’s status', async () => {
    const wire = `data: ${JSON.stringify({ error: { code: 400, message: 'bad grammar', type: 'invalid_request_error' } })}\n\n`;

    await expect(async () => {
      for await (const _ of engineEvents(bytes(wire))) {
        // drain
      }
    }).rejects.toMatchObject({ status: 400, message: 'bad grammar' });
  });

  it('re-stamps chunks with our id and model, one chunk per token, usage with cached prompt tokens', () => {
    const translator = new ChunkTranslator(meta, undefined);
    const chunks = [token('a'), token('b'), finish('length'), usage].flatMap((event) =>
      translator.push(event),
    );

    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([{ content: 'a' }, { content: 'b' }, {}]);
    expect(chunks.every((chunk) => chunk.id === 'chatcmpl-1' && chunk.model === 'tiny')).toBe(true);
    expect(translator.finishReason).toBe('length');
    expect(translator.usageChunk()).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 10, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 8 } },
    });
  });

  it('streams a named tool choice as tool-call argument deltas and finishes with tool_calls', () => {
    const translator = new ChunkTranslator(meta, { kind: 'named', name: 'get_weather' });
    const collector = run(translator, [token('{"city"'), token(':"Paris"}'), finish('stop'), usage]);
    const completion = collector.completion(meta, translator.finishReason ?? 'stop', {
      prompt_tokens: 10,
      completion_tokens: 3,
      total_tokens: 13,
    });

    expect(completion.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
    });
  });

  it('turns a required tool choice into calls, and a cut-off one into text with finish_reason length', () => {
    const complete = new ChunkTranslator(meta, { kind: 'required' });
    const calls = run(complete, [
      token('[{"name":"a","parameters":{"x":1}},'),
      token('{"name":"b","parameters":{}}]'),
      finish('stop'),
    ]);
    const cut = new ChunkTranslator(meta, { kind: 'required' });
    const text = run(cut, [token('[{"name":"a","param'), finish('length')]);
    const usageOf = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };

    expect(calls.completion(meta, complete.finishReason ?? 'stop', usageOf).choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        tool_calls: [
          { function: { name: 'a', arguments: '{"x":1}' } },
          { function: { name: 'b', arguments: '{}' } },
        ],
      },
    });
    expect(text.completion(meta, cut.finishReason ?? 'stop', usageOf).choices[0]).toMatchObject({
      finish_reason: 'length',
      message: { content: '[{"name":"a","param' },
    });
  });
});
