import type { ChatCompletionRequest, ChatMessageInput, ToolCall } from '../contracts/api';
import type { ResponseCreateRequest, ResponseInputItem, ResponseItem } from '../contracts/responses';
import { ApiError, ValidationError } from '../shared/errors';
import type { ResponseSettings } from './store';

/**
 * A Responses API request as a chat turn: `instructions` and the input items become chat messages (a function
 * call an assistant message with `tool_calls`, its output a `tool` message), `previous_response_id` becomes the
 * stored conversation and the branch of that response's answer. The turn then runs on the chat pipeline.
 */

type Parts = readonly { readonly text: string }[];
const joined = (content: string | Parts) =>
  typeof content === 'string' ? content : content.map((part) => part.text).join('\n');

/** A message content's text (parts joined) in the chat shape. */
function chatContent(content: string | readonly ({ type: string } & Record<string, unknown>)[]): string {
  if (typeof content === 'string') return content;
  return content
    .map((part) => (part.type === 'refusal' ? String(part.refusal ?? '') : String(part.text ?? '')))
    .join('\n');
}

/** The chat messages of the input; consecutive function calls (and the text before them) form one message. */
export function chatMessagesOf(
  items: readonly ResponseInputItem[],
  skipCalls: ReadonlySet<string> = new Set(),
): ChatMessageInput[] {
  const messages: ChatMessageInput[] = [];
  items.forEach((item, index) => {
    if (item.type === 'function_call') {
      if (skipCalls.has(item.call_id)) return;
      const call: ToolCall = {
        id: item.call_id,
        type: 'function',
        function: { name: item.name, arguments: item.arguments },
      };
      const last = messages.at(-1);
      if (last?.role === 'assistant' && (last.tool_calls?.length ?? 0) < 32) {
        messages[messages.length - 1] = { ...last, tool_calls: [...(last.tool_calls ?? []), call] };
      } else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      return;
    }
    if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: joined(item.output) });
      return;
    }
    // References are resolved to the items they name before the turn is built (`create.ts`).
    if (item.type === 'item_reference')
      throw new ValidationError('An item reference was not resolved.', `input[${index}]`);
    const content = chatContent(item.content);
    if (item.role === 'assistant') messages.push({ role: 'assistant', content });
    else if (content === '')
      throw new ValidationError('Expected text in the message.', `input[${index}].content`);
    else messages.push({ role: item.role, content });
  });
  return messages;
}

/** The input as a list of items, each with an id (what `input_items` lists). */
export function inputItemsOf(request: ResponseCreateRequest): ResponseItem[] {
  const hex = () => crypto.randomUUID().replaceAll('-', '');
  if (typeof request.input === 'string') {
    return [
      {
        id: `msg_${hex()}`,
        type: 'message',
        role: 'user',
        status: 'completed',
        content: [{ type: 'input_text', text: request.input }],
      },
    ];
  }
  return request.input.map((item): ResponseItem => {
    if (item.type === 'function_call') {
      const { id: _id, status: _status, ...call } = item;
      return { ...call, id: `fc_${hex()}`, status: 'completed' };
    }
    if (item.type === 'function_call_output') {
      const { id: _id, status: _status, ...output } = item;
      return { ...output, id: `fco_${hex()}`, status: 'completed' };
    }
    if (item.type === 'item_reference')
      throw new ValidationError('An item reference was not resolved.', 'input');
    const { id: _id, status: _status, type: _type, ...message } = item;
    const content =
      typeof message.content === 'string'
        ? [{ type: message.role === 'assistant' ? 'output_text' : 'input_text', text: message.content }]
        : message.content;
    return { ...message, id: `msg_${hex()}`, type: 'message', status: 'completed', content };
  });
}

/** The settings the `response` object echoes. */
export function settingsOf(request: ResponseCreateRequest, model: string): ResponseSettings {
  return {
    model,
    instructions: request.instructions ?? null,
    tools: (request.tools ?? []).map((tool) => ({
      type: 'function',
      name: tool.name,
      description: tool.description ?? null,
      parameters: tool.parameters ?? null,
      strict: tool.strict ?? true,
    })),
    toolChoice: request.tool_choice ?? 'auto',
    textFormat: { ...(request.text?.format ?? { type: 'text' }) },
    temperature: request.temperature ?? null,
    topP: request.top_p ?? null,
    maxOutputTokens: request.max_output_tokens ?? null,
    parallelToolCalls: request.parallel_tool_calls ?? true,
    metadata: { ...(request.metadata ?? {}) },
    reasoningEffort: request.reasoning?.effort ?? null,
    user: request.user ?? null,
    background: request.background === true,
    store: request.store !== false,
    previousResponseId: request.previous_response_id ?? null,
  };
}

/** The branch a continued response answers from: the previous response's conversation and answer. */
export interface PreviousTurn {
  readonly conversationId: string;
  readonly answerMessageId: string;
  /** The previous answer's tool calls: the client may send them again beside their outputs. */
  readonly callIds: ReadonlySet<string>;
}

/** The chat turn of a Responses request (`previous` when it continues a stored response). */
export function chatRequestOf(
  request: ResponseCreateRequest,
  previous: PreviousTurn | undefined,
  options: { readonly stream: boolean; readonly resumable: boolean },
): ChatCompletionRequest {
  const items: ResponseInputItem[] =
    typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input;
  const messages = chatMessagesOf(items, previous?.callIds);
  if (previous) {
    const index = items.findIndex(
      (item) =>
        (item.type === 'function_call' && !previous.callIds.has(item.call_id)) ||
        (item.type !== 'function_call' &&
          item.type !== 'function_call_output' &&
          item.type !== 'item_reference' &&
          item.role === 'assistant'),
    );
    if (index >= 0)
      throw new ValidationError(
        'With previous_response_id the earlier turns come from the stored response: send only new messages and function_call_output items.',
        `input[${index}]`,
      );
  }
  const instructions = request.instructions ?? undefined;
  const format = request.text?.format;
  const choice = request.tool_choice;
  const tools = request.tools ?? [];
  return {
    ...(request.model === undefined ? {} : { model: request.model }),
    messages: [...(instructions ? [{ role: 'system' as const, content: instructions }] : []), ...messages],
    stream: options.stream,
    ...(options.resumable ? { resumable: true } : {}),
    ...(request.max_output_tokens == null ? {} : { max_completion_tokens: request.max_output_tokens }),
    ...(request.temperature == null ? {} : { temperature: request.temperature }),
    ...(request.top_p == null ? {} : { top_p: request.top_p }),
    ...(tools.length > 0
      ? {
          tools: tools.map((tool) => ({
            type: 'function' as const,
            function: {
              name: tool.name,
              ...(tool.description == null ? {} : { description: tool.description }),
              ...(tool.parameters == null ? {} : { parameters: tool.parameters }),
              ...(tool.strict == null ? {} : { strict: tool.strict }),
            },
          })),
        }
      : {}),
    ...(choice == null || (tools.length === 0 && choice !== 'none')
      ? {}
      : {
          tool_choice:
            typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } },
        }),
    ...(request.parallel_tool_calls == null ? {} : { parallel_tool_calls: request.parallel_tool_calls }),
    ...(format === undefined || format.type === 'text'
      ? {}
      : format.type === 'json_object'
        ? { response_format: { type: 'json_object' } }
        : {
            response_format: {
              type: 'json_schema',
              json_schema: {
                name: format.name,
                schema: format.schema,
                ...(format.description === undefined ? {} : { description: format.description }),
                ...(format.strict == null ? {} : { strict: format.strict }),
              },
            },
          }),
    ...(request.reasoning?.effort == null ? {} : { reasoning_effort: request.reasoning.effort }),
    ...(previous
      ? { conversation_id: previous.conversationId, parent_message_id: previous.answerMessageId }
      : {}),
  };
}

/** Chat field names in an error, renamed to the Responses request's (`messages` → `input`…). */
const PARAMS: readonly (readonly [RegExp, string])[] = [
  [/^messages(\b.*)?$/, 'input'],
  [/^max_completion_tokens$/, 'max_output_tokens'],
  [/^(conversation_id|parent_message_id)$/, 'previous_response_id'],
  [/^response_format(\b.*)?$/, 'text.format'],
];

export function asResponsesError(error: unknown): unknown {
  if (!(error instanceof ApiError) || error.param === null) return error;
  const renamed = PARAMS.find(([pattern]) => pattern.test(error.param ?? ''))?.[1];
  if (renamed === undefined) return error;
  return new ApiError(error.statusCode, error.type, error.message, renamed, error.code, error.headers);
}
