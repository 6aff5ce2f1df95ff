/**
 * Our validated request → llama-server's `/v1/chat/completions` body. Only known fields are forwarded.
 *
 * Forced tool choice (`required`, or a named function) becomes a JSON-schema-constrained generation over the
 * offered tools, turned back into `tool_calls` by the relay — what vLLM does. llama-server's own template
 * parser handles `auto`; with a forced choice it needs the model to emit the template's exact tool-call
 * syntax, which a weak model may never do.
 *
 * No slot is named: llama-server sends each request to the slot whose cached prompt shares the longest prefix
 * (and keeps evicted prompts in its host-memory cache). Measured against a fixed slot per conversation key,
 * that gives turn 5 of a conversation about 6× lower TTFT (BENCHMARKS.md): a fixed slot makes conversations
 * that hash alike wait for each other and evict each other's prefix.
 */
import type { ChatCompletionRequest, FunctionTool } from './openai';
import { invalidRequest } from './openai';

/** How a forced tool choice is generated and read back. */
export type ForcedTool =
  /** The output is the arguments object of this function. */
  | { readonly kind: 'named'; readonly name: string }
  /** The output is `[{"name": …, "parameters": {…}}, …]` over the offered tools. */
  | { readonly kind: 'required' };

export interface EngineRequest {
  readonly body: Record<string, unknown>;
  readonly forcedTool: ForcedTool | undefined;
  readonly maxTokens: number | undefined;
}

export interface EngineRequestOptions {
  readonly contextSize: number;
  readonly sequences: number;
}

const ANY_OBJECT = { type: 'object' } as const;

function forcedToolOf(request: ChatCompletionRequest): ForcedTool | undefined {
  const choice = request.tool_choice;
  if (choice === 'required') return { kind: 'required' };
  if (typeof choice === 'object' && choice !== null) return { kind: 'named', name: choice.function.name };
  return undefined;
}

/** The JSON schema a forced tool choice is generated under (vLLM's layout for `required`). */
export function forcedToolSchema(
  forced: ForcedTool,
  tools: readonly FunctionTool[],
  parallel: boolean,
): Record<string, unknown> {
  if (forced.kind === 'named') {
    const tool = tools.find((candidate) => candidate.function.name === forced.name);
    return tool?.function.parameters ?? ANY_OBJECT;
  }
  return {
    type: 'array',
    minItems: 1,
    ...(parallel ? {} : { maxItems: 1 }),
    items: {
      anyOf: tools.map((tool) => ({
        type: 'object',
        properties: {
          name: { type: 'string', enum: [tool.function.name] },
          parameters: tool.function.parameters ?? ANY_OBJECT,
        },
        required: ['name', 'parameters'],
      })),
    },
  };
}

export function toEngineRequest(
  request: ChatCompletionRequest,
  options: EngineRequestOptions,
): EngineRequest {
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const param = request.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  if (maxTokens !== undefined && maxTokens > options.contextSize) {
    throw invalidRequest(
      `'${param}' is ${maxTokens}, more than this model's context of ${options.contextSize} tokens.`,
      param,
      'context_length_exceeded',
    );
  }
  const forcedTool = forcedToolOf(request);
  const tools = request.tools ?? [];
  const body: Record<string, unknown> = {
    // Chat templates know `system`, not OpenAI's newer `developer` role (same meaning).
    messages: request.messages.map((message) =>
      message.role === 'developer' ? { ...message, role: 'system' } : message,
    ),
    // Always streamed from the engine: a non-streamed answer is the stream collected (one code path).
    stream: true,
    stream_options: { include_usage: true },
    cache_prompt: request.cache_prompt ?? true,
  };
  const copy = [
    'temperature',
    'top_p',
    'seed',
    'stop',
    'presence_penalty',
    'frequency_penalty',
    'logit_bias',
    'logprobs',
    'top_logprobs',
    'ignore_eos',
    'reasoning_effort',
    'chat_template_kwargs',
  ] as const;
  for (const key of copy) {
    const value = request[key];
    if (value !== null && value !== undefined) body[key] = value;
  }
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  if (forcedTool !== undefined) {
    // The template still shows the model its tools; the grammar makes the answer one call (or several).
    body.tools = tools;
    body.tool_choice = 'none';
    body.response_format = {
      type: 'json_schema',
      json_schema: {
        name: 'tool_call',
        schema: forcedToolSchema(forcedTool, tools, request.parallel_tool_calls ?? true),
      },
    };
  } else {
    if (request.tools != null && request.tools.length > 0) body.tools = request.tools;
    if (request.tool_choice != null) body.tool_choice = request.tool_choice;
    if (request.parallel_tool_calls != null) body.parallel_tool_calls = request.parallel_tool_calls;
    if (request.response_format != null) body.response_format = request.response_format;
  }
  return { body, forcedTool, maxTokens };
}
