/**
 * The ecosystem's other clients against the local stack, used as their docs show: the Vercel AI SDK with its
 * OpenAI-compatible provider (Chat Completions) and LangChain's ChatOpenAI. Forced tool choice and JSON schemas make
 * the generated model produce real tool calls and valid objects.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { tool as langchainTool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject, generateText, streamText, tool } from 'ai';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { apiBase, machineToken } from '../setup/context';

const MODEL = 'chatstack-local';
let token: string;
beforeAll(async () => {
  token = await machineToken('a');
});

// Bounded fields: a random test model inside an unbounded string may never close it.
const Weather = z.object({ city: z.string().max(16), celsius: z.boolean() });
const Answer = z.object({ answer: z.string().max(24), certain: z.boolean() });

function aiModel() {
  const provider = createOpenAICompatible({
    name: 'chatstack',
    baseURL: apiBase(),
    apiKey: token,
    supportsStructuredOutputs: true,
  });
  return provider.chatModel(MODEL);
}

describe('the Vercel AI SDK (openai-compatible provider)', () => {
  it('generates text', async () => {
    const result = await generateText({
      model: aiModel(),
      prompt: 'Say hi.',
      maxOutputTokens: 8,
      maxRetries: 0,
    });
    expect(['stop', 'length']).toContain(result.finishReason);
    expect(result.usage.outputTokens).toBeLessThanOrEqual(8);
  });

  it('streams text', async () => {
    const result = streamText({ model: aiModel(), prompt: 'Say hello.', maxOutputTokens: 8, maxRetries: 0 });
    let streamed = '';
    for await (const delta of result.textStream) streamed += delta;
    expect(streamed).toBe(await result.text);
    expect(['stop', 'length']).toContain(await result.finishReason);
  });

  it('generates an object matching a zod schema', async () => {
    const result = await generateObject({
      model: aiModel(),
      schema: Answer,
      prompt: 'Is the sky blue?',
      maxOutputTokens: 300,
      seed: 7,
      maxRetries: 0,
    });
    expect(Answer.parse(result.object)).toEqual(result.object);
  });

  it('calls a tool it is made to call, and runs it', async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: aiModel(),
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
      seed: 11,
      maxRetries: 0,
    });
    expect(result.finishReason).toBe('tool-calls');
    expect(result.toolCalls[0]?.toolName).toBe('get_weather');
    expect(Weather.parse(calls[0])).toEqual(result.toolCalls[0]?.input);
    expect(result.toolResults[0]?.output).toEqual({ temperature: 21 });
  });
});

function chatModel(options: { maxTokens: number; seed?: number }) {
  return new ChatOpenAI({
    model: MODEL,
    apiKey: token,
    configuration: { baseURL: apiBase() },
    maxRetries: 0,
    ...options,
  });
}

describe('LangChain (ChatOpenAI)', () => {
  it('invokes', async () => {
    const message = await chatModel({ maxTokens: 8 }).invoke('Say hi.');
    expect(['stop', 'length']).toContain(message.response_metadata.finish_reason);
    expect(message.usage_metadata?.input_tokens).toBeGreaterThan(0);
    expect(message.usage_metadata?.output_tokens).toBeLessThanOrEqual(8);
  });

  it('streams', async () => {
    let chunks = 0;
    let text = '';
    for await (const chunk of await chatModel({ maxTokens: 8 }).stream('Say hello.')) {
      chunks++;
      text += typeof chunk.content === 'string' ? chunk.content : '';
    }
    expect(chunks).toBeGreaterThan(1);
    expect(text.length).toBeLessThanOrEqual(8 * 8);
  });

  it('binds a tool and gets a call of it', async () => {
    const getWeather = langchainTool(async () => 'sunny', {
      name: 'get_weather',
      description: 'Current weather in a city',
      schema: Weather,
    });
    const message = await chatModel({ maxTokens: 200, seed: 11 })
      .bindTools([getWeather], { tool_choice: 'get_weather' })
      .invoke('Weather in Paris?');
    expect(message.tool_calls?.[0]?.name).toBe('get_weather');
    expect(Weather.parse(message.tool_calls?.[0]?.args)).toEqual(message.tool_calls?.[0]?.args);
  });

  it('answers with structured output', async () => {
    const answer = await chatModel({ maxTokens: 300, seed: 7 })
      .withStructuredOutput(Answer, { name: 'answer' })
      .invoke('Is the sky blue?');
    expect(Answer.parse(answer)).toEqual(answer);
  });
});
