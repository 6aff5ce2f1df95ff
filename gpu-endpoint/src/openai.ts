/** The OpenAI Chat Completions request schema and the error shape this server speaks. */
import { z } from 'zod';

const textPart = z.object({ type: z.literal('text'), text: z.string() });

const messageContent = z.union([z.string(), z.array(textPart)]);

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.object({
    role: z.enum(['system', 'developer', 'user']),
    content: messageContent,
    name: z.string().optional(),
  }),
  z.object({
    role: z.literal('assistant'),
    content: messageContent.nullable().optional(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).optional(),
    reasoning_content: z.string().nullable().optional(),
  }),
  z.object({ role: z.literal('tool'), content: messageContent, tool_call_id: z.string().min(1) }),
]);

const jsonSchemaObject = z.record(z.string(), z.unknown());

const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().min(1),
      schema: jsonSchemaObject.optional(),
      strict: z.boolean().nullable().optional(),
      description: z.string().optional(),
    }),
  }),
]);

const functionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[\w-]{1,64}$/, 'a function name is 1–64 letters, digits, _ or -'),
    description: z.string().optional(),
    parameters: jsonSchemaObject.optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }),
]);

/**
 * `POST /invocations` and `POST /v1/chat/completions` body. Unknown fields are accepted and not forwarded
 * (OpenAI SDKs send `store`, `metadata`, `user`…); known fields are validated.
 */
export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().optional(),
  messages: z.array(message).min(1),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stop: z
    .union([z.string().min(1), z.array(z.string().min(1)).max(4)])
    .nullable()
    .optional(),
  n: z.literal(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  response_format: responseFormat.nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  logit_bias: z
    .record(z.string().regex(/^\d+$/, 'keys are token ids'), z.number().min(-100).max(100))
    .nullable()
    .optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  tools: z.array(functionTool).max(128).nullable().optional(),
  tool_choice: toolChoice.nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  /**
   * OpenAI's reasoning effort: llama-server hands it to the chat template as `reasoning_effort` (`none` turns the
   * template's thinking off).
   */
  reasoning_effort: z
    .enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'])
    .nullable()
    .optional(),
  /** Extension (llama-server's and vLLM's): variables for the chat template, e.g. `{"reasoning_effort":"high"}`. */
  chat_template_kwargs: z
    .record(
      z.string().regex(/^[A-Za-z_]\w{0,63}$/, 'keys are template variable names'),
      z.union([z.string().max(256), z.number(), z.boolean()]),
    )
    .refine((kwargs) => Object.keys(kwargs).length <= 16, 'at most 16 template variables')
    // llama-server reads `enable_thinking` as a boolean and fails the request on anything else.
    .refine(
      (kwargs) => kwargs.enable_thinking === undefined || typeof kwargs.enable_thinking === 'boolean',
      'enable_thinking is a boolean',
    )
    .nullable()
    .optional(),
  /** OpenAI's cache routing hint: accepted; llama-server finds the cached prefix by itself. */
  prompt_cache_key: z.string().max(256).nullable().optional(),
  /** Extension (same name as vLLM's): keep generating past end-of-sequence, for exact output lengths. */
  ignore_eos: z.boolean().optional(),
  /** Extension (llama.cpp's): reuse the KV cache of a matching prompt prefix; default true. */
  cache_prompt: z.boolean().optional(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type FunctionTool = z.infer<typeof functionTool>;

/** OpenAI error body. */
export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error that maps to an HTTP status and an OpenAI error object. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  toBody(): OpenAiError {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400 for a request that does not match the schema, naming the first bad field (`messages[0].role`). */
export function invalidRequest(message: string, param: string | null, code: string | null = null): HttpError {
  return new HttpError(400, message, 'invalid_request_error', param, code);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Parses a chat completion request body or throws a 400 `HttpError`. */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.', null);
  }
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue === undefined ? null : formatPath(issue.path);
    const reason = issue?.message ?? 'Invalid request';
    throw invalidRequest(param ? `Invalid value for '${param}': ${reason}` : reason, param || null);
  }
  const request = parsed.data;
  const choice = request.tool_choice;
  if (choice != null && choice !== 'none' && (request.tools == null || request.tools.length === 0)) {
    throw invalidRequest("'tool_choice' needs 'tools'.", 'tool_choice');
  }
  if (typeof choice === 'object' && choice !== null) {
    const name = choice.function.name;
    if (!request.tools?.some((tool) => tool.function.name === name)) {
      throw invalidRequest(`'tool_choice' names '${name}', which is not among 'tools'.`, 'tool_choice');
    }
  }
  return request;
}
