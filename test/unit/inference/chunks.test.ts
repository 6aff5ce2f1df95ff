import { describe, expect, it } from 'vitest';
import { CircuitBreakers } from '../../../lambdas/inference/breaker';
import { eventsOfLine, LineSplitter, ModelStreamFailure } from '../../../lambdas/inference/chunks';

describe('eventsOfLine', () => {
  it('reads OpenAI SSE chunks, comments and [DONE]', () => {
    expect(eventsOfLine('data: {"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}')).toEqual([
      { type: 'delta', text: 'Hi' },
    ]);
    expect(eventsOfLine(': keepalive')).toEqual([]);
    expect(eventsOfLine('data: [DONE]')).toEqual([]);
    expect(eventsOfLine('event: message')).toEqual([]);
  });

  it('reads vLLM/LMI JSON lines with finish reason and usage', () => {
    const line =
      '{"choices":[{"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":5}}\r';
    expect(eventsOfLine(line)).toEqual([
      { type: 'finish', reason: 'length' },
      { type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } },
    ]);
  });

  it('reads TGI token events and skips special tokens', () => {
    expect(eventsOfLine('data:{"token":{"text":" there","special":false},"generated_text":null}')).toEqual([
      { type: 'delta', text: ' there' },
    ]);
    expect(
      eventsOfLine('data:{"token":{"text":"</s>","special":true},"details":{"finish_reason":"eos_token"}}'),
    ).toEqual([{ type: 'finish', reason: 'stop' }]);
  });

  it('turns an error chunk or a garbled line into a ModelStreamFailure', () => {
    expect(() => eventsOfLine('data: {"error":{"message":"out of memory"}}')).toThrow(ModelStreamFailure);
    expect(() => eventsOfLine('data: {not json')).toThrow(ModelStreamFailure);
  });
});

describe('LineSplitter', () => {
  it('rebuilds lines and multi-byte characters cut anywhere', () => {
    const bytes = new TextEncoder().encode('data: é🌍\n\n{"a":1}');
    const splitter = new LineSplitter();
    const lines: string[] = [];
    for (const byte of bytes) lines.push(...splitter.push(new Uint8Array([byte])));
    lines.push(...splitter.end());
    expect(lines).toEqual(['data: é🌍', '', '{"a":1}']);
  });
});

describe('CircuitBreakers', () => {
  it('opens after consecutive failures, lets one trial through after the cooldown, and closes on success', () => {
    let now = 0;
    const breakers = new CircuitBreakers({ threshold: 2, cooldownMs: 100, now: () => now });
    breakers.recordFailure('a');
    expect(breakers.tryAcquire('a')).toBe(true);
    breakers.recordFailure('a');
    expect(breakers.tryAcquire('a')).toBe(false);
    now = 150;
    expect(breakers.tryAcquire('a')).toBe(true);
    expect(breakers.tryAcquire('a')).toBe(false);
    breakers.recordSuccess('a');
    expect(breakers.tryAcquire('a')).toBe(true);
  });
});

describe('eventsOfChunk: tools, reasoning and logprobs', () => {
  it('reads tool-call fragments with their index, id and name', () => {
    const line = `data: ${JSON.stringify({
      choices: [
        {
          delta: {
            tool_calls: [
              { index: 1, id: 'call_x', type: 'function', function: { name: 'f', arguments: '{"a"' } },
              { index: 2, function: { arguments: ':1}' } },
            ],
          },
          finish_reason: null,
        },
      ],
    })}`;
    expect(eventsOfLine(line)).toEqual([
      { type: 'tool_call', index: 1, id: 'call_x', name: 'f', arguments: '{"a"' },
      { type: 'tool_call', index: 2, arguments: ':1}' },
    ]);
  });

  it("reads reasoning under llama-server's and vLLM's names, and maps finish tool_calls", () => {
    expect(eventsOfLine('{"choices":[{"delta":{"reasoning_content":"a"},"finish_reason":null}]}')).toEqual([
      { type: 'reasoning', text: 'a' },
    ]);
    expect(eventsOfLine('{"choices":[{"delta":{"reasoning":"b"},"finish_reason":"tool_calls"}]}')).toEqual([
      { type: 'reasoning', text: 'b' },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('reads logprobs in OpenAI shape and drops malformed entries', () => {
    const logprobs = {
      content: [
        { token: 'A', logprob: -1, bytes: [65], top_logprobs: [{ token: 'B', logprob: -2, bytes: null }] },
        { token: 3 },
      ],
    };
    expect(eventsOfLine(JSON.stringify({ choices: [{ delta: { content: 'A' }, logprobs }] }))).toEqual([
      { type: 'delta', text: 'A' },
      {
        type: 'logprobs',
        content: [
          { token: 'A', logprob: -1, bytes: [65], top_logprobs: [{ token: 'B', logprob: -2, bytes: null }] },
        ],
      },
    ]);
  });
});
