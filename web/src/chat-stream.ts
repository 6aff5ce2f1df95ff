/**
 * Folds the API's streamed `chat.completion.chunk`s into the answer being shown. Pure: the UI feeds it the
 * `data:` payloads of the SSE events and renders the state it returns.
 */
import { ApiRequestError, errorBodyOf } from './errors';

export type FinishReason = 'stop' | 'length' | 'content_filter';

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** A passage of an attached file the answer was given (chatstack's `citations` extension). */
export interface Citation {
  readonly file_id: string;
  readonly filename: string;
  readonly chunk_id: string;
  readonly text: string;
}

export interface StreamState {
  readonly content: string;
  /** Set by the citations chunk (before the usage chunk) when the conversation has files. */
  readonly citations?: readonly Citation[];
  readonly finishReason: FinishReason | null;
  readonly usage: Usage | null;
  readonly conversationId: string | null;
  /** `data: [DONE]` arrived. */
  readonly done: boolean;
}

export const initialStreamState: StreamState = {
  content: '',
  finishReason: null,
  usage: null,
  conversationId: null,
  done: false,
};

interface ChunkShape {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  usage?: unknown;
  conversation_id?: unknown;
  citations?: unknown;
}

function isCitation(value: unknown): value is Citation {
  if (typeof value !== 'object' || value === null) return false;
  const citation = value as Record<string, unknown>;
  return ['file_id', 'filename', 'chunk_id', 'text'].every((key) => typeof citation[key] === 'string');
}

function isFinishReason(value: unknown): value is FinishReason {
  return value === 'stop' || value === 'length' || value === 'content_filter';
}

function isUsage(value: unknown): value is Usage {
  if (typeof value !== 'object' || value === null) return false;
  const usage = value as Record<string, unknown>;
  return typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number';
}

/**
 * Applies one SSE `data` payload. Throws `ApiRequestError` (status 0) for a mid-stream `{"error":…}` event,
 * and a plain `Error` for a payload that is not JSON.
 */
export function applyStreamData(state: StreamState, data: string): StreamState {
  if (data.trim() === '[DONE]') return { ...state, done: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new Error('The answer stream was garbled.');
  }
  const error = errorBodyOf(parsed);
  if (error) throw new ApiRequestError(0, error);
  if (typeof parsed !== 'object' || parsed === null) return state;
  const chunk = parsed as ChunkShape;
  let { content, finishReason, usage, conversationId } = state;
  for (const choice of chunk.choices ?? []) {
    const delta = choice.delta?.content;
    if (typeof delta === 'string') content += delta;
    if (isFinishReason(choice.finish_reason)) finishReason = choice.finish_reason;
  }
  if (isUsage(chunk.usage)) usage = chunk.usage;
  if (typeof chunk.conversation_id === 'string') conversationId = chunk.conversation_id;
  const citations = Array.isArray(chunk.citations) ? chunk.citations.filter(isCitation) : state.citations;
  return {
    content,
    finishReason,
    usage,
    conversationId,
    done: state.done,
    ...(citations === undefined ? {} : { citations }),
  };
}

/**
 * Splits streamed text into what can be announced to screen readers now (whole sentences) and what to hold
 * back until it completes, so assistive technology reads sentences rather than token fragments.
 */
export function announceableText(content: string, alreadyAnnounced: number, final: boolean): string {
  const pending = content.slice(alreadyAnnounced);
  if (final) return pending;
  let cut = 0;
  for (const match of pending.matchAll(/[.!?:](?=\s)|\n/g)) cut = match.index + 1;
  return pending.slice(0, cut);
}
