import type { TurnRecord } from '../chat/pipeline';
import type { FinishReason, MessageStatus, ToolCall, Usage } from '../contracts/api';
import type { Citation } from '../contracts/files';
import type {
  ResponseFunctionCall,
  ResponseObject,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseStatus,
} from '../contracts/responses';
import type { StoredMessage } from '../conversations/store';
import type { ResponseSettings } from './store';

/**
 * The one builder of OpenAI's `response` object, from a finished turn or from what the store holds: the answer's
 * text as a `message` item with one `output_text` part, each tool call as a `function_call` item, the status and
 * usage as the Responses API names them.
 */

/** The answer as both sources know it. */
export interface AnswerView {
  readonly messageId: string;
  /** The model that answered. */
  readonly model?: string | undefined;
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  readonly status: MessageStatus;
  readonly finishReason?: FinishReason | undefined;
  readonly usage?: Usage | undefined;
  readonly citations?: readonly Citation[] | undefined;
  /** Why a turn that did not finish broke off (a live turn only; a stored one reads as failed). */
  readonly error?: { readonly code: string; readonly message: string } | undefined;
}

export function answerOfStored(message: StoredMessage): AnswerView {
  return {
    messageId: message.messageId,
    model: message.model,
    text: message.content,
    toolCalls: message.toolCalls ?? [],
    status: message.status,
    finishReason: message.finishReason,
    usage: message.usage,
    citations: message.citations,
  };
}

export function answerOfRecord(record: TurnRecord, messageId: string): AnswerView {
  const choice = record.completion.choices[0];
  return {
    messageId,
    model: record.completion.model,
    text: choice?.message.content ?? '',
    toolCalls: choice?.message.tool_calls ?? [],
    status: record.status,
    finishReason: choice?.finish_reason,
    usage: record.completion.usage,
    citations: record.completion.citations,
    ...(record.error
      ? { error: { code: record.error.error.code ?? 'server_error', message: record.error.error.message } }
      : {}),
  };
}

/** A function call's item id, the same in a stream, its final object and every later read. */
export function functionCallItemId(callId: string): string {
  return `fc_${callId.replace(/[^A-Za-z0-9]/g, '').slice(0, 64)}`;
}

export interface Outcome {
  readonly status: ResponseStatus;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly incomplete: 'max_output_tokens' | 'content_filter' | null;
}

/** The response's status from its answer (none yet: queued), a failure before it, and a cancel request. */
export function outcomeOf(
  answer: AnswerView | undefined,
  state: {
    readonly error?: Outcome['error'] | undefined;
    readonly cancelRequested?: boolean | undefined;
    /** A background response waits `queued` for its answer; any other is `in_progress` from the start. */
    readonly background?: boolean | undefined;
  },
): Outcome {
  const plain = (status: ResponseStatus): Outcome => ({ status, error: null, incomplete: null });
  if (!answer) {
    if (state.error) return { status: 'failed', error: state.error, incomplete: null };
    if (state.cancelRequested) return plain('cancelled');
    return plain(state.background ? 'queued' : 'in_progress');
  }
  if (answer.error) return { status: 'failed', error: answer.error, incomplete: null };
  // A cancel is only recorded while the response runs: whatever its answer did after, it ends cancelled.
  if (state.cancelRequested && answer.status !== 'generating') return plain('cancelled');
  switch (answer.status) {
    case 'generating':
      return plain('in_progress');
    case 'content_filter':
      return { status: 'incomplete', error: null, incomplete: 'content_filter' };
    case 'interrupted':
      return {
        status: 'failed',
        error: { code: 'server_error', message: 'The model stopped before finishing the answer.' },
        incomplete: null,
      };
    default:
      return answer.finishReason === 'length'
        ? { status: 'incomplete', error: null, incomplete: 'max_output_tokens' }
        : plain('completed');
  }
}

const itemStatusOf = (status: ResponseStatus): ResponseOutputMessage['status'] =>
  status === 'completed'
    ? 'completed'
    : status === 'in_progress' || status === 'queued'
      ? 'in_progress'
      : 'incomplete';

export function messageItem(
  messageId: string,
  text: string,
  status: ResponseOutputMessage['status'],
  citations: readonly Citation[] = [],
): ResponseOutputMessage {
  return {
    id: messageId,
    type: 'message',
    role: 'assistant',
    status,
    content: [
      {
        type: 'output_text',
        text,
        annotations: citations.map((citation) => ({
          type: 'file_citation' as const,
          file_id: citation.file_id,
          filename: citation.filename,
          index: text.length,
        })),
        logprobs: [],
      },
    ],
  };
}

export function functionCallItem(
  call: ToolCall,
  status: ResponseFunctionCall['status'],
): ResponseFunctionCall {
  return {
    id: functionCallItemId(call.id),
    type: 'function_call',
    status,
    call_id: call.id,
    name: call.function.name,
    arguments: call.function.arguments,
  };
}

/** The output items: the text (when there is some, or nothing else to show) and then each function call. */
export function outputOf(answer: AnswerView | undefined, status: ResponseStatus): ResponseOutputItem[] {
  if (!answer) return [];
  const settled = status !== 'in_progress' && status !== 'queued';
  const withText = answer.text !== '' || (settled && answer.toolCalls.length === 0);
  return [
    ...(withText ? [messageItem(answer.messageId, answer.text, itemStatusOf(status), answer.citations)] : []),
    ...(settled ? answer.toolCalls.map((call) => functionCallItem(call, 'completed')) : []),
  ];
}

export interface ResponseHead {
  readonly responseId: string;
  readonly createdAt: number;
  readonly settings: ResponseSettings;
  readonly conversationId: string;
}

export function responseObject(
  head: ResponseHead,
  answer: AnswerView | undefined,
  outcome: Outcome,
): ResponseObject {
  const { settings } = head;
  const usage = answer?.usage && outcome.status !== 'in_progress' ? answer.usage : undefined;
  return {
    id: head.responseId,
    object: 'response',
    created_at: head.createdAt,
    status: outcome.status,
    background: settings.background,
    error: outcome.error ? { ...outcome.error } : null,
    incomplete_details: outcome.incomplete ? { reason: outcome.incomplete } : null,
    instructions: settings.instructions,
    max_output_tokens: settings.maxOutputTokens,
    metadata: { ...settings.metadata },
    model: answer?.model ?? settings.model,
    output: outputOf(answer, outcome.status),
    parallel_tool_calls: settings.parallelToolCalls,
    previous_response_id: settings.previousResponseId,
    reasoning: { effort: settings.reasoningEffort, summary: null },
    store: settings.store,
    temperature: settings.temperature,
    text: { format: { ...settings.textFormat } },
    tool_choice: settings.toolChoice,
    tools: settings.tools.map((tool) => ({ ...tool })),
    top_p: settings.topP,
    truncation: 'disabled',
    usage: usage
      ? {
          input_tokens: usage.prompt_tokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: usage.completion_tokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: usage.total_tokens,
        }
      : null,
    user: settings.user,
    conversation_id: head.conversationId,
  };
}
