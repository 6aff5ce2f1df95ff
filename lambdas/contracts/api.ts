import * as z from 'zod';
import { ApiKey } from './api-keys';
import { FileObject } from './files';

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
  maxListLimit: 100,
  defaultListLimit: 20,
  /** Default ceiling for `max_tokens` / `max_completion_tokens` when no configuration is given. */
  defaultMaxCompletionTokens: 4096,
} as const;

/** Ids: `conv_` + 32 lowercase hex digits, `msg_` likewise. */
export const CONVERSATION_ID_PATTERN = /^conv_[0-9a-f]{32}$/;
export const ConversationId = z
  .string()
  .regex(CONVERSATION_ID_PATTERN, 'Expected a conversation id such as conv_0123456789abcdef0123456789abcdef.')
  .meta({ id: 'ConversationId', example: 'conv_0123456789abcdef0123456789abcdef' });

const text = (maxChars: number) => z.string().normalize('NFC').max(maxChars);

export const TextContentPart = z
  .object({ type: z.literal('text'), text: text(LIMITS.maxMessageChars) })
  .strict()
  .meta({ id: 'TextContentPart' });

const MessageContent = z.union([
  text(LIMITS.maxMessageChars),
  z.array(TextContentPart).min(1).max(LIMITS.maxMessages),
]);

export const ChatMessageRole = z.enum(['system', 'developer', 'user', 'assistant']);

export const ChatMessageInput = z
  .object({
    role: ChatMessageRole,
    content: MessageContent,
    name: z.string().max(64).optional(),
  })
  .strict()
  .meta({ id: 'ChatMessageInput' });

const StreamOptions = z.object({ include_usage: z.boolean().optional() }).strict();

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
      n: z.literal(1).nullable().optional(),
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
      user: z.string().max(256).optional(),
      conversation_id: ConversationId.nullable().optional(),
      regenerate: z.boolean().optional().meta({
        description:
          "Re-answer the conversation's last user message, replacing its last answer. Needs `conversation_id` and `messages: []`.",
      }),
    })
    .strict()
    .superRefine((request, context) => {
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

export const FinishReason = z.enum(['stop', 'length', 'content_filter']);
export type FinishReason = z.infer<typeof FinishReason>;

export const Usage = z
  .object({
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
    total_tokens: z.number().int().min(0),
  })
  .meta({ id: 'Usage' });
export type Usage = z.infer<typeof Usage>;

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
          content: z.string(),
          refusal: z.string().nullable(),
        }),
        finish_reason: FinishReason,
        logprobs: z.null(),
      }),
    ),
    usage: Usage,
    conversation_id: ConversationId,
  })
  .meta({ id: 'ChatCompletion' });
export type ChatCompletion = z.infer<typeof ChatCompletion>;

export const ChatCompletionChunk = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
        finish_reason: FinishReason.nullable(),
        logprobs: z.null(),
      }),
    ),
    usage: Usage.nullable(),
    conversation_id: ConversationId,
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
  .object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() })
  .meta({ id: 'Model' });
export const ModelList = z
  .object({ object: z.literal('list'), data: z.array(Model) })
  .meta({ id: 'ModelList' });
export type ModelList = z.infer<typeof ModelList>;

export const MessageStatus = z.enum(['complete', 'interrupted', 'content_filter']);
export type MessageStatus = z.infer<typeof MessageStatus>;

export const ConversationMessage = z
  .object({
    id: z.string(),
    role: ChatMessageRole,
    content: z.string(),
    created_at: z.string(),
    status: MessageStatus,
    model: z.string().nullable(),
    usage: Usage.nullable(),
  })
  .meta({ id: 'ConversationMessage' });
export type ConversationMessage = z.infer<typeof ConversationMessage>;

export const Conversation = z
  .object({
    id: ConversationId,
    object: z.literal('conversation'),
    title: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    message_count: z.number().int().min(0),
  })
  .meta({ id: 'Conversation' });
export type Conversation = z.infer<typeof Conversation>;

export const ConversationWithMessages = Conversation.extend({ messages: z.array(ConversationMessage) }).meta({
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
  })
  .strict();

export const ConversationPatch = z
  .object({ title: z.string().normalize('NFC').trim().min(1).max(LIMITS.maxTitleChars) })
  .strict()
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
  })
  .meta({ id: 'Export' });
export type Export = z.infer<typeof Export>;
