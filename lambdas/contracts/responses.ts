import * as z from 'zod';
import { JsonSchemaObject, LIMITS, Metadata, ToolFunctionName } from './api';

/**
 * OpenAI's Responses API (`/v1/responses`), described once with zod: the request the handler parses, the
 * `response` object it answers with and the list shapes. The shapes follow the openai SDK's
 * `resources/responses` types; fields chatstack does not act on are accepted and listed as ignored in
 * docs/openai-compatibility.md, unknown fields are a 400 as OpenAI answers them.
 */

/** Ids: `resp_` + 32 lowercase hex digits. */
export const ResponseId = z
  .string()
  .regex(/^resp_[0-9a-f]{32}$/, 'Expected a response id such as resp_0123456789abcdef0123456789abcdef.')
  .meta({ id: 'ResponseId', example: 'resp_0123456789abcdef0123456789abcdef' });

const text = (maxChars: number = LIMITS.maxMessageChars) => z.string().normalize('NFC').max(maxChars);
const CallId = z.string().min(1).max(LIMITS.maxToolCallIdChars);
const ItemStatus = z.enum(['in_progress', 'completed', 'incomplete']);
/** Item ids a client echoes back (ours or another server's): accepted, not used. */
const ItemIdField = z.string().max(128).nullable().optional();

const InputText = z
  .object({ type: z.literal('input_text'), text: text(), prompt_cache_breakpoint: z.unknown().optional() })
  .strict();
const OutputText = z
  .object({
    type: z.literal('output_text'),
    text: text(),
    annotations: z.array(z.unknown()).max(1024).optional(),
    logprobs: z.array(z.unknown()).optional(),
  })
  .strict();
const Refusal = z.object({ type: z.literal('refusal'), refusal: text() }).strict();
const parts = <T extends z.ZodType>(part: T) => z.array(part).min(1).max(LIMITS.maxMessages);

/** A message of the input: instructions, the user's words, or an earlier answer (`output_text` parts). */
const InputMessage = z.union([
  z
    .object({
      type: z.literal('message').optional(),
      role: z.enum(['user', 'system', 'developer']),
      content: z.union([text(), parts(InputText)]),
      id: ItemIdField,
      status: ItemStatus.nullable().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('message').optional(),
      role: z.literal('assistant'),
      content: z.union([text(), parts(z.discriminatedUnion('type', [OutputText, Refusal]))]),
      id: ItemIdField,
      status: ItemStatus.nullable().optional(),
      phase: z.enum(['commentary', 'final_answer']).nullable().optional(),
    })
    .strict(),
]);

const FunctionCallItem = z
  .object({
    type: z.literal('function_call'),
    call_id: CallId,
    name: ToolFunctionName,
    arguments: z.string().max(LIMITS.maxMessageChars),
    id: ItemIdField,
    status: ItemStatus.nullable().optional(),
  })
  .strict();

const FunctionCallOutputItem = z
  .object({
    type: z.literal('function_call_output'),
    call_id: CallId,
    output: z.union([text(), parts(InputText)]),
    id: ItemIdField,
    status: ItemStatus.nullable().optional(),
  })
  .strict();

/** An earlier output item of the caller's stored responses, by id (the AI SDK sends these with `store`). */
const ItemReference = z
  .object({ type: z.literal('item_reference'), id: z.string().min(1).max(128) })
  .strict();

export const ResponseInputItem = z
  .union([InputMessage, FunctionCallItem, FunctionCallOutputItem, ItemReference])
  .meta({ id: 'ResponseInputItem' });
export type ResponseInputItem = z.infer<typeof ResponseInputItem>;

export const ResponseFunctionTool = z
  .object({
    type: z.literal('function'),
    name: ToolFunctionName,
    description: z.string().max(4096).nullable().optional(),
    parameters: JsonSchemaObject.nullable().optional(),
    strict: z.boolean().nullable().optional(),
  })
  .strict()
  .meta({ id: 'ResponseFunctionTool' });
export type ResponseFunctionTool = z.infer<typeof ResponseFunctionTool>;

export const ResponseToolChoice = z
  .union([
    z.enum(['none', 'auto', 'required']),
    z.object({ type: z.literal('function'), name: ToolFunctionName }).strict(),
  ])
  .meta({ id: 'ResponseToolChoice' });
export type ResponseToolChoice = z.infer<typeof ResponseToolChoice>;

export const ResponseTextFormat = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('text') }).strict(),
    z.object({ type: z.literal('json_object') }).strict(),
    z
      .object({
        type: z.literal('json_schema'),
        name: ToolFunctionName,
        schema: JsonSchemaObject,
        description: z.string().max(4096).optional(),
        strict: z.boolean().nullable().optional(),
      })
      .strict(),
  ])
  .meta({ id: 'ResponseTextFormat' });
export type ResponseTextFormat = z.infer<typeof ResponseTextFormat>;

const TextConfig = z
  .object({
    format: ResponseTextFormat.optional(),
    verbosity: z.enum(['low', 'medium', 'high']).nullable().optional(),
  })
  .strict();

const INCLUDABLE = [
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
] as const;

/** `POST /v1/responses`, with the output-token ceiling from configuration. */
export function responseCreateRequestSchema(maxOutputTokens: number = LIMITS.defaultMaxCompletionTokens) {
  return z
    .object({
      model: z.string().min(1).max(128).optional(),
      input: z.union([text(), z.array(ResponseInputItem).min(1).max(LIMITS.maxMessages)]),
      instructions: text().nullable().optional(),
      tools: z.array(ResponseFunctionTool).max(LIMITS.maxTools).nullable().optional(),
      tool_choice: ResponseToolChoice.nullable().optional(),
      parallel_tool_calls: z.boolean().nullable().optional(),
      text: TextConfig.nullable().optional(),
      max_output_tokens: z.number().int().min(1).max(maxOutputTokens).nullable().optional(),
      temperature: z.number().min(0).max(2).nullable().optional(),
      top_p: z.number().min(0).max(1).nullable().optional(),
      metadata: Metadata.nullable().optional(),
      store: z.boolean().nullable().optional(),
      stream: z.boolean().nullable().optional(),
      stream_options: z
        .object({ include_obfuscation: z.boolean().optional() })
        .strict()
        .nullable()
        .optional(),
      previous_response_id: ResponseId.nullable().optional(),
      background: z.boolean().nullable().optional(),
      reasoning: z
        .object({
          effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).nullable().optional(),
          summary: z.enum(['auto', 'concise', 'detailed']).nullable().optional(),
          generate_summary: z.enum(['auto', 'concise', 'detailed']).nullable().optional(),
        })
        .strict()
        .nullable()
        .optional(),
      // Accepted and ignored (docs/openai-compatibility.md).
      include: z.array(z.enum(INCLUDABLE)).max(INCLUDABLE.length).nullable().optional(),
      top_logprobs: z.number().int().min(0).max(LIMITS.maxTopLogprobs).nullable().optional(),
      truncation: z.enum(['auto', 'disabled']).nullable().optional(),
      user: z.string().max(256).optional(),
      safety_identifier: z.string().max(256).nullable().optional(),
      prompt_cache_key: z.string().max(1024).nullable().optional(),
      prompt_cache_retention: z.enum(['in_memory', '24h']).nullable().optional(),
      service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority']).nullable().optional(),
    })
    .strict()
    .superRefine((request, context) => {
      const choice = request.tool_choice;
      const tools = request.tools ?? [];
      if (choice != null && choice !== 'none' && choice !== 'auto' && tools.length === 0)
        context.addIssue({ code: 'custom', path: ['tool_choice'], message: "Needs 'tools'." });
      if (typeof choice === 'object' && choice !== null && tools.length > 0) {
        if (!tools.some((tool) => tool.name === choice.name))
          context.addIssue({
            code: 'custom',
            path: ['tool_choice'],
            message: `Names '${choice.name}', which is not among 'tools'.`,
          });
      }
      if (request.background === true && request.store === false)
        context.addIssue({
          code: 'custom',
          path: ['background'],
          message: "A background response must be stored: it cannot be used with 'store': false.",
        });
    })
    .meta({ id: 'ResponseCreateRequest' });
}
export const ResponseCreateRequest = responseCreateRequestSchema();
export type ResponseCreateRequest = z.infer<typeof ResponseCreateRequest>;

export const ResponseStatus = z.enum([
  'completed',
  'failed',
  'in_progress',
  'cancelled',
  'queued',
  'incomplete',
]);
export type ResponseStatus = z.infer<typeof ResponseStatus>;

export const ResponseOutputText = z
  .object({
    type: z.literal('output_text'),
    text: z.string(),
    annotations: z.array(
      z.object({
        type: z.literal('file_citation'),
        file_id: z.string(),
        filename: z.string(),
        index: z.number().int(),
      }),
    ),
    logprobs: z.array(z.unknown()),
  })
  .meta({ id: 'ResponseOutputText' });
export type ResponseOutputText = z.infer<typeof ResponseOutputText>;

export const ResponseOutputMessage = z
  .object({
    id: z.string(),
    type: z.literal('message'),
    role: z.literal('assistant'),
    status: ItemStatus,
    content: z.array(ResponseOutputText),
  })
  .meta({ id: 'ResponseOutputMessage' });
export type ResponseOutputMessage = z.infer<typeof ResponseOutputMessage>;

export const ResponseFunctionCall = z
  .object({
    id: z.string(),
    type: z.literal('function_call'),
    status: ItemStatus,
    call_id: z.string(),
    name: z.string(),
    arguments: z.string(),
  })
  .meta({ id: 'ResponseFunctionCall' });
export type ResponseFunctionCall = z.infer<typeof ResponseFunctionCall>;

export const ResponseOutputItem = z
  .discriminatedUnion('type', [ResponseOutputMessage, ResponseFunctionCall])
  .meta({ id: 'ResponseOutputItem' });
export type ResponseOutputItem = z.infer<typeof ResponseOutputItem>;

export const ResponseUsage = z
  .object({
    input_tokens: z.number().int().min(0),
    input_tokens_details: z.object({ cached_tokens: z.number().int().min(0) }),
    output_tokens: z.number().int().min(0),
    output_tokens_details: z.object({ reasoning_tokens: z.number().int().min(0) }),
    total_tokens: z.number().int().min(0),
  })
  .meta({ id: 'ResponseUsage' });
export type ResponseUsage = z.infer<typeof ResponseUsage>;

export const ResponseObject = z
  .object({
    id: ResponseId,
    object: z.literal('response'),
    created_at: z.number().int(),
    status: ResponseStatus,
    background: z.boolean(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    incomplete_details: z.object({ reason: z.enum(['max_output_tokens', 'content_filter']) }).nullable(),
    instructions: z.string().nullable(),
    max_output_tokens: z.number().int().nullable(),
    metadata: z.record(z.string(), z.string()),
    model: z.string(),
    output: z.array(ResponseOutputItem),
    parallel_tool_calls: z.boolean(),
    previous_response_id: z.string().nullable(),
    reasoning: z.object({ effort: z.string().nullable(), summary: z.string().nullable() }),
    store: z.boolean(),
    temperature: z.number().nullable(),
    text: z.object({ format: z.record(z.string(), z.unknown()) }),
    tool_choice: z.union([z.string(), z.record(z.string(), z.unknown())]),
    tools: z.array(z.record(z.string(), z.unknown())),
    top_p: z.number().nullable(),
    truncation: z.literal('disabled'),
    usage: ResponseUsage.nullable(),
    user: z.string().nullable(),
    /** chatstack's extension: the conversation the exchange is stored in. */
    conversation_id: z.string(),
  })
  .meta({ id: 'Response' });
export type ResponseObject = z.infer<typeof ResponseObject>;

/** One typed event of a streamed response (`event:` line = `type`); every event has a `sequence_number`. */
export const ResponseStreamEvent = z
  .object({ type: z.string(), sequence_number: z.number().int().min(0) })
  .catchall(z.unknown())
  .meta({ id: 'ResponseStreamEvent' });

/** An input item as listed by `GET /v1/responses/{id}/input_items` (ids given by chatstack). */
export const ResponseItem = z
  .object({ id: z.string(), type: z.enum(['message', 'function_call', 'function_call_output']) })
  .catchall(z.unknown())
  .meta({ id: 'ResponseItem' });
export type ResponseItem = z.infer<typeof ResponseItem>;

export const ResponseItemList = z
  .object({
    object: z.literal('list'),
    data: z.array(ResponseItem),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  })
  .meta({ id: 'ResponseItemList' });
export type ResponseItemList = z.infer<typeof ResponseItemList>;

const ItemCursor = z
  .string()
  .regex(/^[a-z]{2,4}_[0-9A-Za-z_-]{1,128}$/, 'Expected an item id from this list.');

export const InputItemsQuery = z
  .object({
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'Expected a whole number.')
      .transform(Number)
      .pipe(z.number().int().min(1).max(LIMITS.maxListLimit))
      .default(LIMITS.defaultListLimit),
    order: z.enum(['asc', 'desc']).default('desc'),
    after: ItemCursor.optional(),
    before: ItemCursor.optional(),
    'include[]': z.string().max(64).optional(),
  })
  .strict()
  .meta({ id: 'InputItemsQuery' });

/** `GET /v1/responses/{id}`: `stream=true` re-attaches to its events (`starting_after` a sequence number). */
export const ResponseRetrieveQuery = z
  .object({
    stream: z.enum(['true', 'false']).optional(),
    starting_after: z
      .string()
      .regex(/^\d{1,6}$/, 'Expected a whole number.')
      .transform(Number)
      .optional(),
    'include[]': z.string().max(64).optional(),
    include_obfuscation: z.enum(['true', 'false']).optional(),
  })
  .strict()
  .meta({ id: 'ResponseRetrieveQuery' });

export const ResponseDeleted = z
  .object({ id: ResponseId, object: z.literal('response'), deleted: z.literal(true) })
  .meta({ id: 'ResponseDeleted' });
