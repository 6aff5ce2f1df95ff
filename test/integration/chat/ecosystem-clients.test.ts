/**
 * The ecosystem's other clients against the local stack, used as their docs show: the Vercel AI SDK with its
 * OpenAI-compatible provider (Chat Completions) and LangChain's ChatOpenAI. Forced tool choice and JSON schemas make
 * the generated model produce real tool calls and valid objects.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { tool as langchainTool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiBase, machineToken } from '../setup/context';
import { Answer, aiSdkCases, Weather } from './support/ai-sdk-cases';

const MODEL = 'chatstack-local';
let token: string;
beforeAll(async () => {
  token = await machineToken('a');
});

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
  aiSdkCases(aiModel, (seed) => ({ seed }));
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
