import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  eventsOfLine,
  type InferenceEvent,
  LineSplitter,
  ModelStreamFailure,
} from '../../../lambdas/inference/chunks';

/**
 * Both engines' streams of one answer (reasoning, text with logprobs, a streamed tool call, usage), as recorded
 * from each: vLLM behind AWS LMI (JSON lines, the tool call's name alone in its first delta, usage with cached
 * prompt tokens) and llama-server (SSE, name and first arguments together, `timings`, `[DONE]`). The inference
 * client must read them as the same events.
 */
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'inference');
const recorded = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

/** The events of a byte stream cut into parts of `size` bytes (SageMaker re-frames payload parts anywhere). */
function eventsOf(bytes: Uint8Array, size: number): InferenceEvent[] {
  const splitter = new LineSplitter();
  const events: InferenceEvent[] = [];
  for (let start = 0; start < bytes.length; start += size) {
    for (const line of splitter.push(bytes.slice(start, start + size))) events.push(...eventsOfLine(line));
  }
  for (const line of splitter.end()) events.push(...eventsOfLine(line));
  return events;
}

/** The answer the events add up to: what the pipeline stores and returns. */
function answerOf(events: readonly InferenceEvent[]) {
  const calls = new Map<number, { id?: string; name?: string; arguments: string }>();
  const answer = {
    text: '',
    reasoning: '',
    logprobs: [] as unknown[],
    finish: '',
    usage: undefined as unknown,
  };
  for (const event of events) {
    if (event.type === 'delta') answer.text += event.text;
    else if (event.type === 'reasoning') answer.reasoning += event.text;
    else if (event.type === 'logprobs') answer.logprobs.push(...event.content);
    else if (event.type === 'finish') answer.finish = event.reason;
    else if (event.type === 'usage') answer.usage = event.usage;
    else {
      const call = calls.get(event.index) ?? { arguments: '' };
      calls.set(event.index, {
        ...call,
        ...(event.id ? { id: event.id } : {}),
        ...(event.name ? { name: event.name } : {}),
        arguments: call.arguments + event.arguments,
      });
    }
  }
  return { ...answer, toolCalls: [...calls.values()] };
}

const ANSWER = {
  text: 'Checking.',
  reasoning: 'The user asks about Paris.',
  logprobs: [
    {
      token: 'Checking',
      logprob: -0.25,
      bytes: [67, 104, 101, 99, 107, 105, 110, 103],
      top_logprobs: [{ token: 'Checking', logprob: -0.25, bytes: [67, 104, 101, 99, 107, 105, 110, 103] }],
    },
    { token: '.', logprob: -0.5, bytes: [46], top_logprobs: [{ token: '.', logprob: -0.5, bytes: [46] }] },
  ],
  finish: 'tool_calls',
  usage: { prompt_tokens: 312, completion_tokens: 28, total_tokens: 340 },
  toolCalls: [{ id: 'chatcmpl-tool-9c4e', name: 'get_weather', arguments: '{"city": "Paris"}' }],
};

describe('one event model for both engines', () => {
  for (const fixture of ['vllm-lmi-tool-call.jsonl', 'llama-server-tool-call.sse']) {
    it(`reads ${fixture} as the same answer, however its bytes are cut`, () => {
      for (const size of [1, 7, 64, 100_000]) {
        expect(answerOf(eventsOf(recorded(fixture), size)), `${size}-byte parts`).toEqual(ANSWER);
      }
    });
  }

  it('gives the tool call its id and name on its first fragment, for both engines', () => {
    for (const fixture of ['vllm-lmi-tool-call.jsonl', 'llama-server-tool-call.sse']) {
      const first = eventsOf(recorded(fixture), 100_000).find((event) => event.type === 'tool_call');
      expect(first, fixture).toMatchObject({ index: 0, id: 'chatcmpl-tool-9c4e', name: 'get_weather' });
    }
  });

  it('reads the last JSON line of an LMI stream that ends without a newline', () => {
    const bytes = recorded('vllm-lmi-tool-call.jsonl');
    const trimmed = bytes.slice(0, bytes.length - 1);
    expect(answerOf(eventsOf(trimmed, 33)).usage).toEqual(ANSWER.usage);
  });
});

describe('what vLLM and LMI send besides answers', () => {
  it("fails the stream on vLLM's error chunk, in its current and its older shape", () => {
    const current = {
      error: { object: 'error', message: 'out of KV blocks', type: 'InternalServerError', code: 500 },
    };
    const older = { object: 'error', message: 'prompt too long', type: 'BadRequestError', code: 400 };

    expect(() => eventsOfLine(`data: ${JSON.stringify(current)}`)).toThrow(
      new ModelStreamFailure('out of KV blocks'),
    );
    expect(() => eventsOfLine(JSON.stringify(older))).toThrow(new ModelStreamFailure('prompt too long'));
  });

  it('fails the stream when LMI or vLLM end it on an error or an abort, instead of a normal finish', () => {
    const lmi = {
      token: { id: [13], text: '', log_prob: -0.1 },
      generated_text: '',
      details: { finish_reason: 'error' },
    };
    const aborted = { choices: [{ index: 0, delta: {}, finish_reason: 'abort' }] };

    expect(() => eventsOfLine(JSON.stringify(lmi))).toThrow(ModelStreamFailure);
    expect(() => eventsOfLine(JSON.stringify(aborted))).toThrow(ModelStreamFailure);
  });

  it("reads newer vLLM's `reasoning` once when it also sends `reasoning_content`", () => {
    const both = { choices: [{ index: 0, delta: { reasoning: 'Hmm', reasoning_content: 'Hmm' } }] };
    expect(eventsOfLine(JSON.stringify(both))).toEqual([{ type: 'reasoning', text: 'Hmm' }]);
  });

  it('keeps tool-call arguments an engine sends as a JSON object instead of a string', () => {
    const chunk = {
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: { city: 'Paris' } } }],
          },
        },
      ],
    };
    expect(eventsOfLine(JSON.stringify(chunk))).toEqual([
      { type: 'tool_call', index: 0, id: 'call_1', name: 'f', arguments: '{"city":"Paris"}' },
    ]);
  });

  it('reads usage sent on the finishing chunk itself (LMI), not only on a chunk of its own', () => {
    const chunk = {
      choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    };
    expect(eventsOfLine(JSON.stringify(chunk))).toEqual([
      { type: 'delta', text: 'ok' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } },
    ]);
  });
});
