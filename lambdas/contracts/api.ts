import * as z from 'zod';
import { ApiKey } from './api-keys';
import { MessageFeedback } from './feedback';
import { Citation, FILE_LIMITS, FileId, FileObject } from './files';
import { Share } from './sharing';

/**
 * The public API's bodies, described once with zod: handlers parse with them, `z.infer` gives the types, and
 * `scripts/openapi.ts` generates docs/openapi.json from them (and the API Gateway request models derive from it).
 */

export const LIMITS = {
  /** Largest request body accepted, in bytes (UTF-8). */
  maxBodyBytes: 64 * 1024,
  /** Longest single message, in characters after NFC normalisation. */
  maxMessageChars: 16_000,
  maxMessages: 50,
  maxStopSequences: 4,
  maxTitleChars: 200,
  /** Longest search query, in characters. */
  maxSearchQueryChars: 200,
  /** Longest custom instructions or conversation system prompt, in characters. */
  maxInstructionsChars: 4000,
  maxListLimit: 100,
  defaultListLimit: 20,
  /** Default ceiling for `max_tokens` / `max_completion_tokens` when no configuration is given. */
  defaultMaxCompletionTokens: 4096,
  maxTools: 128,
  maxToolCallsPerMessage: 32,
  maxToolCallIdChars: 128,
  /** Largest `top_logprobs` (OpenAI's own bound). */
  maxTopLogprobs: 20,
} as const;

/** Ids: `conv_` + 32 lowercase hex digits, `msg_` likewise. */
export const CONVERSATION_ID_PATTERN = /^conv_[0-9a-f]{32}$/;
export const MessageId = z
  .string()
  .regex(/^msg_[0-9a-f]{32}$/, 'Expected a message id such as msg_0123456789abcdef0123456789abcdef.')
  .meta({ id: 'MessageId', example: 'msg_0123456789abcdef0123456789abcdef' });
export type MessageId = z.infer<typeof MessageId>;

export const ConversationId = z
  .string()
  .regex(CONVERSATION_ID_PATTERN, 'Expected a conversation id such as conv_0123456789abcdef0123456789abcdef.')
  .meta({ id: 'ConversationId', example: 'conv_0123456789abcdef0123456789abcdef' });

const text = (maxChars: number) => z.string().normalize('NFC').max(maxChars);

export const TextContentPart = z
  .object({ type: z.literal('text'), text: text(LIMITS.maxMessageChars) })
  .strict()
  .meta({ id: 'TextContentPart' });

/** A refusal an earlier answer carried (assistant messages only). */
const RefusalContentPart = z
  .object({ type: z.literal('refusal'), refusal: text(LIMITS.maxMessageChars) })
  .strict();

const MessageContent = z.union([
  text(LIMITS.maxMessageChars),
  z.array(TextContentPart).min(1).max(LIMITS.maxMessages),
]);

const AssistantContent = z.union([
  text(LIMITS.maxMessageChars),
  z
    .array(z.discriminatedUnion('type', [TextContentPart, RefusalContentPart]))
    .min(1)
    .max(LIMITS.maxMessages),
]);

/** A function name as OpenAI allows it: 1–64 letters, digits, `_` or `-`. */
export const ToolFunctionName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected a function name of 1–64 letters, digits, _ or -.');

/** A JSON Schema object (passed to the engine, which turns it into a grammar). */
export const JsonSchemaObject = z.record(z.string(), z.unknown());

/** Roles a stored or sent message has. */
export const ChatMessageRole = z.enum(['system', 'developer', 'user', 'assistant', 'tool']);

export const ToolCall = z
  .object({
    id: z.string().min(1).max(LIMITS.maxToolCallIdChars),
    type: z.literal('function'),
    function: z
      .object({ name: ToolFunctionName, arguments: z.string().max(LIMITS.maxMessageChars) })
      .strict(),
  })
  .strict()
  .meta({ id: 'ToolCall' });
export type ToolCall = z.infer<typeof ToolCall>;

const name = z.string().max(64).optional();

/** One message of the request, by role (OpenAI's message params; `function` messages are not accepted). */
export const ChatMessageInput = z
  .discriminatedUnion('role', [
    z.object({ role: z.enum(['system', 'developer', 'user']), content: MessageContent, name }).strict(),
    z
      .object({
        role: z.literal('assistant'),
        content: AssistantContent.nullable().optional(),
        name,
        tool_calls: z.array(ToolCall).min(1).max(LIMITS.maxToolCallsPerMessage).optional(),
        refusal: z.string().max(LIMITS.maxMessageChars).nullable().optional(),
        /** Accepted, ignored: no audio output. */
        audio: z
          .object({ id: z.string().max(256) })
          .strict()
          .nullable()
          .optional(),
        /** Deprecated (`functions`); accepted, ignored. */
        function_call: z
          .object({ name: z.string().max(64), arguments: z.string().max(LIMITS.maxMessageChars) })
          .strict()
          .nullable()
          .optional(),
      })
      .strict(),
    z
      .object({
        role: z.literal('tool'),
        content: MessageContent,
        tool_call_id: z.string().min(1).max(LIMITS.maxToolCallIdChars),
      })
      .strict(),
  ])
  .meta({ id: 'ChatMessageInput' });

const StreamOptions = z
  .object({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })
  .strict();

export const FunctionTool = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: ToolFunctionName,
        description: z.string().max(4096).optional(),
        parameters: JsonSchemaObject.optional(),
        strict: z.boolean().nullable().optional(),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'FunctionTool' });
export type FunctionTool = z.infer<typeof FunctionTool>;

export const ToolChoice = z
  .union([
    z.enum(['none', 'auto', 'required']),
    z
      .object({ type: z.literal('function'), function: z.object({ name: ToolFunctionName }).strict() })
      .strict(),
  ])
  .meta({ id: 'ToolChoice' });
export type ToolChoice = z.infer<typeof ToolChoice>;

export const ResponseFormat = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('text') }).strict(),
    z.object({ type: z.literal('json_object') }).strict(),
    z
      .object({
        type: z.literal('json_schema'),
        json_schema: z
          .object({
            name: ToolFunctionName,
            description: z.string().max(4096).optional(),
            schema: JsonSchemaObject.optional(),
            strict: z.boolean().nullable().optional(),
          })
          .strict(),
      })
      .strict(),
  ])
  .meta({ id: 'ResponseFormat' });
export type ResponseFormat = z.infer<typeof ResponseFormat>;

/** Free-form `metadata`: up to 16 string pairs, as OpenAI bounds it. Accepted, not stored. */
export const Metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((value) => Object.keys(value).length <= 16, {
    message: 'Expected at most 16 keys.',
  });

/**
 * The chat completion request (OpenAI schema + `conversation_id` + `regenerate`), with the token ceiling from
 * configuration. `regenerate: true` re-answers the conversation's last user message in place of its last answer:
 * it needs `conversation_id` and takes no new messages (`messages: []`); otherwise `messages` is non-empty.
 */
export function chatCompletionRequestSchema(maxCompletionTokens: number = LIMITS.defaultMaxCompletionTokens) {
  const tokens = z.number().int().min(1).max(maxCompletionTokens);
  return z
    .object({
      model: z.string().min(1).max(128).optional(),
      messages: z.array(ChatMessageInput).max(LIMITS.maxMessages),
      stream: z.boolean().nullable().optional(),
      stream_options: StreamOptions.nullable().optional(),
      max_tokens: tokens.nullable().optional(),
      max_completion_tokens: tokens.nullable().optional(),
      temperature: z.number().min(0).max(2).nullable().optional(),
      top_p: z.number().min(0).max(1).nullable().optional(),
      n: z.literal(1, 'Only n = 1 is supported: one choice per request.').nullable().optional(),
      stop: z
        .union([text(256), z.array(text(256)).max(LIMITS.maxStopSequences)])
        .nullable()
        .optional(),
      presence_penalty: z.number().min(-2).max(2).nullable().optional(),
      frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .nullable()
        .optional(),
      user: z.string().max(256).nullable().optional(),
      response_format: ResponseFormat.nullable().optional(),
      tools: z.array(FunctionTool).max(LIMITS.maxTools).nullable().optional(),
      tool_choice: ToolChoice.nullable().optional(),
      parallel_tool_calls: z.boolean().nullable().optional(),
      logit_bias: z
        .record(z.string().regex(/^\d{1,9}$/, 'Expected token ids as keys.'), z.number().min(-100).max(100))
        .refine((value) => Object.keys(value).length <= 1024, { message: 'Expected at most 1024 token ids.' })
        .nullable()
        .optional(),
      logprobs: z.boolean().nullable().optional(),
      top_logprobs: z.number().int().min(0).max(LIMITS.maxTopLogprobs).nullable().optional(),
      reasoning_effort: z
        .enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'])
        .nullable()
        .optional(),
      // Accepted and ignored (docs/openai-compatibility.md): OpenAI-platform features with no meaning here.
      prompt_cache_key: z.string().max(1024).nullable().optional(),
      prompt_cache_retention: z.enum(['in_memory', '24h']).nullable().optional(),
      prompt_cache_options: z
        .object({ mode: z.enum(['implicit', 'explicit']).optional(), ttl: z.literal('30m').optional() })
        .strict()
        .optional(),
      /** OpenAI's own moderation settings: accepted, ignored (chatstack's moderation always runs). */
      moderation: z
        .object({
          model: z.string().max(128),
          policy: z.record(z.string(), z.unknown()).nullable().optional(),
        })
        .strict()
        .nullable()
        .optional(),
      safety_identifier: z.string().max(256).nullable().optional(),
      service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority']).nullable().optional(),
      store: z.boolean().nullable().optional(),
      metadata: Metadata.nullable().optional(),
      verbosity: z.enum(['low', 'medium', 'high']).nullable().optional(),
      modalities: z
        .array(z.enum(['text', 'audio']))
        .max(2)
        .nullable()
        .optional(),
      audio: z
        .object({ voice: z.string().max(64), format: z.enum(['wav', 'aac', 'mp3', 'flac', 'opus', 'pcm16']) })
        .strict()
        .nullable()
        .optional(),
      prediction: z
        .object({ type: z.literal('content'), content: AssistantContent })
        .strict()
        .nullable()
        .optional(),
      web_search_options: z
        .object({
          search_context_size: z.enum(['low', 'medium', 'high']).optional(),
          user_location: z.record(z.string(), z.unknown()).nullable().optional(),
        })
        .strict()
        .nullable()
        .optional(),
      /** Deprecated in favour of `tools`: accepted and ignored. */
      functions: z
        .array(
          z
            .object({
              name: ToolFunctionName,
              description: z.string().max(4096).optional(),
              parameters: JsonSchemaObject.optional(),
            })
            .strict(),
        )
        .max(LIMITS.maxTools)
        .optional(),
      function_call: z
        .union([z.enum(['none', 'auto']), z.object({ name: ToolFunctionName }).strict()])
        .optional(),
      conversation_id: ConversationId.nullable().optional(),
      parent_message_id: MessageId.nullable().optional().meta({
        description:
          'The stored message this turn continues from (a branch): the model sees the path to it. `null` starts from the root (editing the first question). Default: the active branch. With `regenerate`, the question to answer again.',
      }),
      resumable: z.boolean().optional().meta({
        description:
          'Generate to the end even if the client goes away (only an explicit stop ends it early); re-attach with GET /v1/conversations/{id}/messages/{message_id}/stream. Needs a stream.',
      }),
      regenerate: z.boolean().optional().meta({
        description:
          "Answer the active branch's last question again (or `parent_message_id`'s): the new answer is a sibling of the previous one, which stays reachable. Needs `conversation_id` and `messages: []`.",
      }),
      file_ids: z.array(FileId).max(FILE_LIMITS.maxFilesPerQuery).optional().meta({
        description:
          'Files (ids from `POST /v1/files`, status `processed`) attached to the conversation: this turn and later ones are answered from their best passages, cited in `citations`.',
      }),
    })
    .strict()
    .superRefine((request, context) => {
      if (request.parent_message_id !== undefined && !request.conversation_id)
        context.addIssue({
          code: 'custom',
          path: ['conversation_id'],
          message: 'Required with parent_message_id.',
        });
      const choice = request.tool_choice;
      const tools = request.tools ?? [];
      if (choice != null && choice !== 'none' && tools.length === 0)
        context.addIssue({ code: 'custom', path: ['tool_choice'], message: "Needs 'tools'." });
      if (typeof choice === 'object' && choice !== null && tools.length > 0) {
        if (!tools.some((tool) => tool.function.name === choice.function.name))
          context.addIssue({
            code: 'custom',
            path: ['tool_choice'],
            message: `Names '${choice.function.name}', which is not among 'tools'.`,
          });
      }
      if (request.top_logprobs != null && request.logprobs !== true)
        context.addIssue({ code: 'custom', path: ['top_logprobs'], message: "Needs 'logprobs': true." });
      if (request.regenerate === true) {
        if (request.messages.length > 0)
          context.addIssue({
            code: 'custom',
            path: ['messages'],
            message:
              "Must be empty when regenerating: the answer is to the conversation's last user message.",
          });
        else if (!request.conversation_id)
          context.addIssue({
            code: 'custom',
            path: ['conversation_id'],
            message: 'Required when regenerating.',
          });
        else if (request.parent_message_id === null)
          context.addIssue({
            code: 'custom',
            path: ['parent_message_id'],
            message: 'Must name the question to answer again when regenerating.',
          });
      } else if (request.messages.length === 0) {
        context.addIssue({
          code: 'too_small',
          origin: 'array',
          minimum: 1,
          inclusive: true,
          path: ['messages'],
          message: 'Expected at least one message.',
        });
      }
    })
    .meta({ id: 'ChatCompletionRequest' });
}
export const ChatCompletionRequest = chatCompletionRequestSchema();
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;
export type ChatMessageInput = z.infer<typeof ChatMessageInput>;

export const FinishReason = z.enum(['stop', 'length', 'content_filter', 'tool_calls']);
export type FinishReason = z.infer<typeof FinishReason>;

export const Usage = z
  .object({
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
    total_tokens: z.number().int().min(0),
  })
  .meta({ id: 'Usage' });
export type Usage = z.infer<typeof Usage>;

/** One token's log probability, OpenAI's shape (`top_logprobs` entries have the same fields). */
const TokenLogprobFields = {
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number().int()).nullable(),
};
export const TokenLogprob = z
  .object({ ...TokenLogprobFields, top_logprobs: z.array(z.object(TokenLogprobFields)) })
  .meta({ id: 'TokenLogprob' });
export type TokenLogprob = z.infer<typeof TokenLogprob>;

export const ChoiceLogprobs = z
  .object({ content: z.array(TokenLogprob).nullable(), refusal: z.array(TokenLogprob).nullable() })
  .meta({ id: 'ChoiceLogprobs' });
export type ChoiceLogprobs = z.infer<typeof ChoiceLogprobs>;

export const ChatCompletion = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({
          role: z.literal('assistant'),
          content: z.string().nullable(),
          refusal: z.string().nullable(),
          tool_calls: z.array(ToolCall).optional(),
          /** The model's reasoning, apart from the answer (engines that emit it). */
          reasoning_content: z.string().optional(),
        }),
        finish_reason: FinishReason,
        logprobs: ChoiceLogprobs.nullable(),
      }),
    ),
    usage: Usage,
    conversation_id: ConversationId,
    /** The passages of attached files the answer was given (only when the conversation has files). */
    citations: z.array(Citation).optional(),
  })
  .meta({ id: 'ChatCompletion' });
export type ChatCompletion = z.infer<typeof ChatCompletion>;

/** A streamed fragment of a tool call: the first carries `id`, `type` and the name; later ones more arguments. */
export const ToolCallDelta = z
  .object({
    index: z.number().int().min(0),
    id: z.string().optional(),
    type: z.literal('function').optional(),
    function: z.object({ name: z.string().optional(), arguments: z.string().optional() }),
  })
  .meta({ id: 'ToolCallDelta' });
export type ToolCallDelta = z.infer<typeof ToolCallDelta>;

export const ChatCompletionChunk = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        delta: z.object({
          role: z.literal('assistant').optional(),
          content: z.string().optional(),
          reasoning_content: z.string().optional(),
          tool_calls: z.array(ToolCallDelta).optional(),
        }),
        finish_reason: FinishReason.nullable(),
        logprobs: ChoiceLogprobs.nullable(),
      }),
    ),
    usage: Usage.nullable(),
    conversation_id: ConversationId,
    /** On one chunk before the usage chunk, when the answer was given passages of attached files. */
    citations: z.array(Citation).optional(),
  })
  .meta({ id: 'ChatCompletionChunk' });
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;

export const ErrorResponse = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .meta({ id: 'ErrorResponse' });

export const Model = z
  .object({
    id: z.string(),
    object: z.literal('model'),
    created: z.number().int(),
    owned_by: z.string(),
    /** Tokens the model's context holds (prompt and answer together); an extension, as vLLM's `max_model_len`. */
    context_length: z.number().int().positive(),
  })
  .meta({ id: 'Model' });
export type Model = z.infer<typeof Model>;
export const ModelList = z
  .object({ object: z.literal('list'), data: z.array(Model) })
  .meta({ id: 'ModelList' });
export type ModelList = z.infer<typeof ModelList>;

export const MessageStatus = z.enum(['complete', 'interrupted', 'content_filter', 'generating']);
export type MessageStatus = z.infer<typeof MessageStatus>;

export const ConversationMessage = z
  .object({
    id: z.string(),
    parent_id: z
      .string()
      .nullable()
      .meta({ description: 'The message this one follows; null on the first.' }),
    role: ChatMessageRole,
    content: z.string(),
    created_at: z.string(),
    status: MessageStatus,
    model: z.string().nullable(),
    usage: Usage.nullable(),
    /** An answer grounded in attached files: the passages it was given. */
    citations: z.array(Citation).optional(),
    /** An answer that called tools: the calls, one item per message as stored. */
    tool_calls: z.array(ToolCall).optional(),
    /** A `tool` message: the call it answers. */
    tool_call_id: z.string().optional(),
    reasoning_content: z.string().optional(),
    /** An answer the caller rated (`POST …/messages/{message_id}/feedback`). */
    feedback: MessageFeedback.optional(),
  })
  .meta({ id: 'ConversationMessage' });
export type ConversationMessage = z.infer<typeof ConversationMessage>;

/** Where a search matched: plain text and offsets, so a client highlights without ever rendering HTML. */
export const SearchSnippet = z
  .object({
    text: z.string().meta({ description: 'About 160 characters around the match, `…` where cut.' }),
    highlights: z
      .array(z.object({ start: z.number().int().min(0), end: z.number().int().min(0) }))
      .meta({ description: 'The matched words in `text`, as UTF-16 offsets [start, end).' }),
    source: z.enum(['title', 'message']),
  })
  .meta({ id: 'SearchSnippet' });
export type SearchSnippet = z.infer<typeof SearchSnippet>;

export const Conversation = z
  .object({
    id: ConversationId,
    object: z.literal('conversation'),
    title: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    message_count: z.number().int().min(0),
    /** Files attached with `file_ids` (later turns are answered from them too). */
    file_ids: z.array(FileId).optional(),
    pinned: z.boolean().meta({ description: 'Pinned conversations come first in the list.' }),
    system_prompt: z.string().optional().meta({
      description: 'The conversation’s own system prompt, when it has one (PATCH `system_prompt`).',
    }),
    snippet: SearchSnippet.optional().meta({
      description: 'Search results (`q`) only: where the words matched.',
    }),
  })
  .meta({ id: 'Conversation' });
export type Conversation = z.infer<typeof Conversation>;

export const ConversationWithMessages = Conversation.extend({
  /** Every message of every branch, oldest first. */
  messages: z.array(ConversationMessage),
  current_message_id: z
    .string()
    .nullable()
    .meta({ description: 'The leaf of the active branch: follow `parent_id` from it to read the branch.' }),
}).meta({
  id: 'ConversationWithMessages',
});
export type ConversationWithMessages = z.infer<typeof ConversationWithMessages>;

export const ConversationList = z
  .object({
    object: z.literal('list'),
    data: z.array(Conversation),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'ConversationList' });
export type ConversationList = z.infer<typeof ConversationList>;

/** A query-string integer written in plain decimal digits (no `1e2`, `0x10` or spaces), within bounds. */
function decimal(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,6}$/, 'Expected a whole number.')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** Query string of `GET /v1/conversations`; the cursor is opaque (base64url). */
export const ConversationListQuery = z
  .object({
    limit: decimal(1, LIMITS.maxListLimit).default(LIMITS.defaultListLimit),
    cursor: z
      .string()
      .max(1024)
      .regex(/^[A-Za-z0-9_-]+$/, 'Expected a cursor returned by a previous page.')
      .optional(),
    q: z.string().max(LIMITS.maxSearchQueryChars).optional().meta({
      description:
        'Search: conversations whose title or messages have every word (the last one also as a word prefix).',
    }),
  })
  .strict()
  .refine((query) => query.q === undefined || query.cursor === undefined, {
    message: 'Search results come in one page: `cursor` cannot be combined with `q`.',
    path: ['cursor'],
  });

/** `GET …/messages/{message_id}/stream`: how many stored pieces the client already has. */
export const ReattachQuery = z
  .object({ after: z.coerce.number().int().min(0).max(100_000).default(0) })
  .strict()
  .meta({ id: 'ReattachQuery' });

export const AnswerStop = z
  .object({
    id: z.string(),
    object: z.literal('conversation.message.stop'),
    stopping: z.boolean().meta({ description: 'False when the answer was no longer generating.' }),
  })
  .meta({ id: 'AnswerStop' });
export type AnswerStop = z.infer<typeof AnswerStop>;

export const ConversationPatch = z
  .object({
    title: z.string().normalize('NFC').trim().min(1).max(LIMITS.maxTitleChars).optional(),
    current_message_id: MessageId.optional().meta({
      description: 'Switch the active branch to the one through this message (its newest leaf).',
    }),
    pinned: z.boolean().optional(),
    system_prompt: z
      .string()
      .normalize('NFC')
      .trim()
      .max(LIMITS.maxInstructionsChars)
      .nullable()
      .optional()
      .meta({
        description: 'The conversation’s own system prompt for later turns; null or empty removes it.',
      }),
  })
  .strict()
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), {
    message: 'Expected title, current_message_id, pinned or system_prompt.',
    path: ['title'],
  })
  .meta({ id: 'ConversationPatch' });

export const Deleted = z
  .object({ id: z.string(), object: z.string(), deleted: z.literal(true) })
  .meta({ id: 'Deleted' });

export const UsageDay = z
  .object({
    date: z.string(),
    requests: z.number().int().min(0),
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
  })
  .meta({ id: 'UsageDay' });
export type UsageDay = z.infer<typeof UsageDay>;

export const UsageReport = z
  .object({
    object: z.literal('usage'),
    days: z.array(UsageDay),
    limits: z.object({ requests_per_minute: z.number().int(), tokens_per_day: z.number().int() }),
  })
  .meta({ id: 'UsageReport' });
export type UsageReport = z.infer<typeof UsageReport>;

export const UsageQuery = z.object({ days: decimal(1, 366).default(30) }).strict();

/** `GET/PUT /v1/me/settings`: what applies to every new turn of the user's. */
export const UserSettings = z
  .object({
    custom_instructions: z
      .string()
      .normalize('NFC')
      .trim()
      .max(LIMITS.maxInstructionsChars)
      .meta({ description: 'Sent to the model as a system message on every new turn; empty for none.' }),
    default_model: z.string().max(128).nullable().meta({
      description:
        'The model new chats start with (one of `GET /v1/models`); null for the deployment’s default.',
    }),
  })
  .meta({ id: 'UserSettings' });
export type UserSettings = z.infer<typeof UserSettings>;

export const UserSettingsUpdate = UserSettings.partial()
  .strict()
  .refine((update) => update.custom_instructions !== undefined || update.default_model !== undefined, {
    message: 'Expected custom_instructions or default_model.',
    path: ['custom_instructions'],
  })
  .meta({ id: 'UserSettingsUpdate' });

/** A job as exported: what was asked and what came of it. */
export const ExportedJob = z
  .object({
    id: z.string(),
    status: z.enum(['queued', 'processing', 'completed', 'failed']),
    created_at: z.string(),
    updated_at: z.string(),
    conversation_id: z.string().optional(),
    request: z.record(z.string(), z.unknown()),
    result: z.record(z.string(), z.unknown()).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: 'ExportedJob' });
export type ExportedJob = z.infer<typeof ExportedJob>;

export const ExportedFile = FileObject.extend({
  download_url: z.string(),
  download_expires_at: z.number().int(),
}).meta({ id: 'ExportedFile' });
export type ExportedFile = z.infer<typeof ExportedFile>;

/** A stored response of the Responses API as exported: what was asked; its answer is in `conversations`. */
export const ExportedResponse = z
  .object({
    id: z.string(),
    created_at: z.number().int(),
    conversation_id: z.string().nullable(),
    previous_response_id: z.string().nullable(),
    instructions: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    background: z.boolean(),
    input_items: z.array(z.object({ id: z.string(), type: z.string() }).catchall(z.unknown())),
  })
  .meta({ id: 'ExportedResponse' });
export type ExportedResponse = z.infer<typeof ExportedResponse>;

export const Export = z
  .object({
    object: z.literal('export'),
    exported_at: z.string(),
    user: z.object({ sub: z.string() }),
    conversations: z.array(ConversationWithMessages),
    jobs: z.array(ExportedJob),
    usage: z.array(UsageDay),
    /** Personal API keys as their list shows them (never a secret or its hash). */
    api_keys: z.array(ApiKey),
    /** Uploaded files, each with a download link that expires. */
    files: z.array(ExportedFile),
    /** Ratings of answers (also on the rated messages). */
    feedback: z.array(MessageFeedback.extend({ conversation_id: z.string(), message_id: z.string() })),
    /** Share links of conversations. */
    shares: z.array(Share),
    settings: UserSettings,
    /** Stored responses of the Responses API. */
    responses: z.array(ExportedResponse),
  })
  .meta({ id: 'Export' });
export type Export = z.infer<typeof Export>;
