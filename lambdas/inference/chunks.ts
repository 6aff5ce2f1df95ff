import type { FinishReason, TokenLogprob, Usage } from '../contracts/api';

/** A fragment of a tool call: the first of an `index` carries its id and name, each one more of its arguments. */
export interface ToolCallFragment {
  readonly type: 'tool_call';
  readonly index: number;
  readonly id?: string;
  readonly name?: string;
  readonly arguments: string;
}

/** What the inference client yields, whatever the engine's wire format. */
export type InferenceEvent =
  | { readonly type: 'delta'; readonly text: string }
  | { readonly type: 'reasoning'; readonly text: string }
  | ToolCallFragment
  | { readonly type: 'logprobs'; readonly content: readonly TokenLogprob[] }
  | { readonly type: 'finish'; readonly reason: FinishReason }
  | { readonly type: 'usage'; readonly usage: Usage };

/** The model reported an error in its stream (an `{"error":…}` chunk). */
export class ModelStreamFailure extends Error {
  override readonly name = 'ModelStreamFailure';
}

/**
 * Splits arbitrary byte ranges into lines: payload parts cut anywhere, even inside a multi-byte character,
 * so bytes are decoded with a streaming decoder and a partial last line is kept for the next part.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';

  push(bytes: Uint8Array): string[] {
    this.pending += this.decoder.decode(bytes, { stream: true });
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines;
  }

  /** The unterminated last line, if any (JSON-lines engines may omit the final newline). */
  end(): string[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return rest.trim() === '' ? [] : [rest];
  }
}

const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  eos_token: 'stop',
  stop_sequence: 'stop',
  end_turn: 'stop',
  length: 'length',
  max_tokens: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
};

/** Finish reasons that mean the engine gave up on the request: LMI's `error`, vLLM's `abort` (a cancelled sequence). */
const FAILED_FINISHES = new Set(['error', 'abort']);

function finishReasonOf(value: unknown): FinishReason | undefined {
  if (typeof value !== 'string') return undefined;
  if (FAILED_FINISHES.has(value)) throw new ModelStreamFailure(`The model ended the answer with '${value}'.`);
  return FINISH_REASONS[value] ?? 'stop';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function usageOf(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined;
  const prompt = value.prompt_tokens;
  const completion = value.completion_tokens;
  if (typeof prompt !== 'number' || typeof completion !== 'number') return undefined;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function errorMessageOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.message === 'string') return value.message;
  return 'The model reported an error.';
}

/** Tool-call fragments of a delta (OpenAI's `tool_calls` deltas, as llama-server and vLLM stream them). */
function toolCallsOf(delta: Record<string, unknown> | undefined): ToolCallFragment[] {
  if (!Array.isArray(delta?.tool_calls)) return [];
  return delta.tool_calls.flatMap((call: unknown, position: number): ToolCallFragment[] => {
    if (!isRecord(call)) return [];
    const fn = isRecord(call.function) ? call.function : {};
    const index = typeof call.index === 'number' && Number.isInteger(call.index) ? call.index : position;
    return [
      {
        type: 'tool_call',
        index,
        ...(typeof call.id === 'string' && call.id !== '' ? { id: call.id } : {}),
        ...(typeof fn.name === 'string' && fn.name !== '' ? { name: fn.name } : {}),
        // Some engines (TGI) send the arguments as the object itself.
        arguments:
          typeof fn.arguments === 'string'
            ? fn.arguments
            : isRecord(fn.arguments)
              ? JSON.stringify(fn.arguments)
              : '',
      },
    ];
  });
}

function tokenLogprobOf(value: unknown): TokenLogprob | undefined {
  if (!isRecord(value) || typeof value.token !== 'string' || typeof value.logprob !== 'number')
    return undefined;
  const bytes = Array.isArray(value.bytes) ? value.bytes.filter((byte) => typeof byte === 'number') : null;
  const top = Array.isArray(value.top_logprobs) ? value.top_logprobs : [];
  return {
    token: value.token,
    logprob: value.logprob,
    bytes,
    top_logprobs: top.flatMap((entry: unknown) => {
      const one = tokenLogprobOf({ ...(isRecord(entry) ? entry : {}), top_logprobs: [] });
      return one ? [{ token: one.token, logprob: one.logprob, bytes: one.bytes }] : [];
    }),
  };
}

/** A choice's `logprobs.content` entries, in OpenAI's shape. */
function logprobsOf(value: unknown): TokenLogprob[] {
  if (!isRecord(value) || !Array.isArray(value.content)) return [];
  return value.content.flatMap((entry: unknown) => {
    const one = tokenLogprobOf(entry);
    return one ? [one] : [];
  });
}

/** Events of one parsed chunk object: OpenAI chunks (our server, vLLM/LMI, TGI Messages API) or TGI/LMI tokens. */
export function eventsOfChunk(chunk: unknown): InferenceEvent[] {
  if (!isRecord(chunk)) return [];
  if (chunk.error !== undefined && chunk.error !== null)
    throw new ModelStreamFailure(errorMessageOf(chunk.error));
  // Older vLLM releases stream the error response itself: `{"object":"error","message":…}`.
  if (chunk.object === 'error') throw new ModelStreamFailure(errorMessageOf(chunk));
  const events: InferenceEvent[] = [];
  if (Array.isArray(chunk.choices)) {
    const choice: unknown = chunk.choices[0];
    if (isRecord(choice)) {
      const delta = isRecord(choice.delta)
        ? choice.delta
        : isRecord(choice.message)
          ? choice.message
          : undefined;
      // vLLM names it `reasoning` in newer releases, `reasoning_content` (llama-server's name) in older ones.
      const reasoning = delta?.reasoning_content ?? delta?.reasoning;
      if (typeof reasoning === 'string' && reasoning !== '')
        events.push({ type: 'reasoning', text: reasoning });
      const content = delta?.content ?? choice.text;
      if (typeof content === 'string' && content !== '') events.push({ type: 'delta', text: content });
      events.push(...toolCallsOf(delta));
      const logprobs = logprobsOf(choice.logprobs);
      if (logprobs.length > 0) events.push({ type: 'logprobs', content: logprobs });
      const reason = finishReasonOf(choice.finish_reason);
      if (reason) events.push({ type: 'finish', reason });
    }
  } else if (isRecord(chunk.token)) {
    const token = chunk.token;
    if (typeof token.text === 'string' && token.text !== '' && token.special !== true) {
      events.push({ type: 'delta', text: token.text });
    }
    const details = isRecord(chunk.details) ? chunk.details : undefined;
    const reason = finishReasonOf(details?.finish_reason);
    if (reason) events.push({ type: 'finish', reason });
  }
  const usage = usageOf(chunk.usage);
  if (usage) events.push({ type: 'usage', usage });
  return events;
}

/** One line of the stream: SSE (`data: …`, comments, `[DONE]`) or a bare JSON line. */
export function eventsOfLine(rawLine: string): InferenceEvent[] {
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  if (line.trim() === '' || line.startsWith(':')) return [];
  let payload = line;
  if (line.startsWith('data:')) payload = line.slice(5).trim();
  else if (/^(event|id|retry):/.test(line)) return [];
  if (payload === '[DONE]' || payload === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new ModelStreamFailure('The model sent a malformed stream chunk.');
  }
  return eventsOfChunk(parsed);
}
