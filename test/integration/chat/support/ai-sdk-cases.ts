/**
 * The Vercel AI SDK used as its docs show — text, a stream, an object from a zod schema, a forced tool call — for
 * any of its model providers: the same cases run through `@ai-sdk/openai-compatible` (Chat Completions) and
 * `@ai-sdk/openai` (the Responses API).
 */
import { generateObject, generateText, type LanguageModel, streamText, tool } from 'ai';
import { expect, it } from 'vitest';
import * as z from 'zod';

// Bounded fields: a random test model inside an unbounded string may never close it.
export const Weather = z.object({ city: z.string().max(16), celsius: z.boolean() });
export const Answer = z.object({ answer: z.string().max(24), certain: z.boolean() });

/** Sampling that makes the generated model end its objects and calls (a seed, or greedy decoding). */
type Sampling = { readonly seed: number } | { readonly temperature: number };

export function aiSdkCases(model: () => LanguageModel, sampling: (salt: number) => Sampling): void {
  it('generates text', async () => {
    const result = await generateText({
      model: model(),
      prompt: 'Say hi.',
      maxOutputTokens: 8,
      maxRetries: 0,
    });
    expect(['stop', 'length']).toContain(result.finishReason);
    expect(result.usage.outputTokens).toBeLessThanOrEqual(8);
  });

  it('streams text', async () => {
    const result = streamText({ model: model(), prompt: 'Say hello.', maxOutputTokens: 8, maxRetries: 0 });
    let streamed = '';
    for await (const delta of result.textStream) streamed += delta;
    expect(streamed).toBe(await result.text);
    expect(['stop', 'length']).toContain(await result.finishReason);
  });

  it('generates an object matching a zod schema', async () => {
    const result = await generateObject({
      model: model(),
      schema: Answer,
      prompt: 'Is the sky blue?',
      maxOutputTokens: 300,
      ...sampling(7),
      maxRetries: 0,
    });
    expect(Answer.parse(result.object)).toEqual(result.object);
  });

  it('calls a tool it is made to call, and runs it', async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: model(),
      prompt: 'Weather in Paris?',
      tools: {
        get_weather: tool({
          description: 'Current weather in a city',
          inputSchema: Weather,
          execute: async (input) => {
            calls.push(input);
            return { temperature: 21 };
          },
        }),
      },
      toolChoice: { type: 'tool', toolName: 'get_weather' },
      maxOutputTokens: 200,
      ...sampling(11),
      maxRetries: 0,
    });
    expect(result.finishReason).toBe('tool-calls');
    expect(result.toolCalls[0]?.toolName).toBe('get_weather');
    expect(Weather.parse(calls[0])).toEqual(result.toolCalls[0]?.input);
    expect(result.toolResults[0]?.output).toEqual({ temperature: 21 });
  });
}
