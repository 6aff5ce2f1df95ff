/**
 * llama-server's stream → our `chat.completion.chunk`s, one engine chunk (one token) at a time, and the same
 * chunks collected into a `chat.completion` for non-streamed requests.
 */
import { randomUUID } from 'node:crypto';
import type { ForcedTool } from './engine-request';
import { HttpError } from './openai';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface Delta {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string;
  tool_calls?: ToolCallDelta[];
}

export interface Choice {
  index: 0;
  delta: Delta;
  logprobs: unknown;
  finish_reason: FinishReason | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: null;
  choices: Choice[];
  usage: Usage | null;
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: null;
  choices: {
    index: 0;
    message: {
      role: 'assistant';
      content: string | null;
      reasoning_content?: string;
      tool_calls?: ToolCall[];
      refusal: null;
    };
    logprobs: { content: unknown[] } | null;
    finish_reason: FinishReason;
  }[];
  usage: Usage;
}

/** The engine reported an error inside its stream, or the stream broke. */
export class EngineStreamError extends Error {
  override readonly name = 'EngineStreamError';
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parsed `data:` payloads of llama-server's SSE body, in order (`[DONE]` ends it). */
export async function* engineEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<Json> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const bytes of body) {
    pending += decoder.decode(bytes, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
      if (line === '' || line.startsWith(':')) continue;
      const data = line.startsWith('data:')
        ? line.slice(5).trim()
        : line.startsWith('error:')
          ? line.slice(6).trim()
          : '';
      if (data === '[DONE]') return;
      if (data === '') continue;
      const event = JSON.parse(data) as unknown;
      if (!isRecord(event)) continue;
      if (isRecord(event.error)) throw engineError(event.error);
      yield event;
    }
  }
}

/** An engine error object as our HTTP error (status and a string code kept). */
export function engineError(error: Json): HttpError {
  const status = typeof error.code === 'number' ? error.code : 500;
  const message = typeof error.message === 'string' ? error.message : 'The engine failed.';
  const type = typeof error.type === 'string' ? error.type : 'server_error';
  if (type === 'exceed_context_size_error') {
    return new HttpError(400, message, 'invalid_request_error', 'messages', 'context_length_exceeded');
  }
  if (status >= 400 && status < 500)
    return new HttpError(status, message, 'invalid_request_error', null, null);
  return new HttpError(502, message, 'server_error', null, 'engine_error');
}

const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
};

export interface Timings {
  /** Prompt tokens served from the KV cache. */
  readonly cachedPromptTokens: number;
  readonly promptTokens: number;
}

/**
 * Rewrites engine chunks as ours: our id, model and `created`; the first delta alone carries the role; forced
 * tool choices come out as `tool_calls` (a named function's arguments stream as they are generated).
 */
export class ChunkTranslator {
  /** Chunks that carried output (a token of content, reasoning or tool call). */
  outputChunks = 0;
  firstOutputAt: number | undefined;
  finishReason: FinishReason | null = null;
  usage: Usage | undefined;
  timings: Timings | undefined;
  private buffered = '';
  private toolCallOpened = false;

  constructor(
    private readonly meta: { id: string; created: number; model: string },
    private readonly forcedTool: ForcedTool | undefined,
  ) {}

  /** The opening chunk: `role: "assistant"`, sent as soon as the engine accepted the request. */
  opening(): ChatCompletionChunk {
    return this.chunk({ role: 'assistant', content: '' }, null, null);
  }

  /** Our chunks for one engine event (usually one; none for a bookkeeping event). */
  push(event: Json): ChatCompletionChunk[] {
    this.record(event);
    const out: ChatCompletionChunk[] = [];
    const choices = Array.isArray(event.choices) ? event.choices : [];
    for (const choice of choices) {
      if (!isRecord(choice)) continue;
      const delta = isRecord(choice.delta) ? choice.delta : {};
      const logprobs = choice.logprobs ?? null;
      const translated = this.translate(delta);
      const finish = typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
      if (translated !== undefined) {
        this.outputChunks++;
        this.firstOutputAt ??= performance.now();
        // A `required` tool choice buffers its JSON until the end: counted, not sent.
        if (Object.keys(translated).length > 0) out.push(this.chunk(translated, logprobs, null));
      }
      if (finish !== null) out.push(...this.finish(FINISH_REASONS[finish] ?? 'stop'));
    }
    return out;
  }

  /** The usage chunk (`choices: []`), for `stream_options.include_usage`. */
  usageChunk(): ChatCompletionChunk {
    return { ...this.chunk({}, null, null), choices: [], usage: this.usage ?? null };
  }

  private record(event: Json): void {
    if (isRecord(event.usage)) {
      const prompt = Number(event.usage.prompt_tokens ?? 0);
      const completion = Number(event.usage.completion_tokens ?? 0);
      this.usage = {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
      };
    }
    if (isRecord(event.timings)) {
      this.timings = {
        cachedPromptTokens: Number(event.timings.cache_n ?? 0),
        promptTokens: Number(event.timings.prompt_n ?? 0),
      };
    }
    if (this.usage !== undefined && this.timings !== undefined) {
      this.usage.prompt_tokens_details = { cached_tokens: this.timings.cachedPromptTokens };
    }
  }

  private translate(delta: Json): Delta | undefined {
    const content = typeof delta.content === 'string' && delta.content !== '' ? delta.content : undefined;
    const reasoning =
      typeof delta.reasoning_content === 'string' && delta.reasoning_content !== ''
        ? delta.reasoning_content
        : undefined;
    const toolCalls = Array.isArray(delta.tool_calls) ? (delta.tool_calls as ToolCallDelta[]) : undefined;
    if (this.forcedTool?.kind === 'required') {
      if (content !== undefined) this.buffered += content;
      return content === undefined ? undefined : {};
    }
    if (this.forcedTool?.kind === 'named') {
      if (content === undefined) return undefined;
      const call: ToolCallDelta = { index: 0, function: { arguments: content } };
      if (!this.toolCallOpened) {
        this.toolCallOpened = true;
        Object.assign(call, { id: toolCallId(), type: 'function' });
        call.function = { name: this.forcedTool.name, arguments: content };
      }
      return { tool_calls: [call] };
    }
    if (content === undefined && reasoning === undefined && toolCalls === undefined) return undefined;
    const out: Delta = {};
    if (content !== undefined) out.content = content;
    if (reasoning !== undefined) out.reasoning_content = reasoning;
    if (toolCalls !== undefined) out.tool_calls = toolCalls;
    return out;
  }

  private finish(reason: FinishReason): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    if (this.forcedTool?.kind === 'required') {
      const calls = parseRequiredCalls(this.buffered);
      if (calls === undefined) {
        // Cut off (max_tokens) before the JSON closed: hand back what was generated, as text.
        if (this.buffered !== '') out.push(this.chunk({ content: this.buffered }, null, null));
      } else {
        out.push(
          this.chunk(
            {
              tool_calls: calls.map((call, index) => ({
                index,
                id: toolCallId(),
                type: 'function',
                function: { name: call.name, arguments: JSON.stringify(call.parameters) },
              })),
            },
            null,
            null,
          ),
        );
        if (reason === 'stop') reason = 'tool_calls';
      }
    }
    if (this.forcedTool?.kind === 'named' && this.toolCallOpened && reason === 'stop') reason = 'tool_calls';
    this.finishReason = reason;
    out.push(this.chunk({}, null, reason));
    return out;
  }

  private chunk(delta: Delta, logprobs: unknown, finish: FinishReason | null): ChatCompletionChunk {
    return {
      id: this.meta.id,
      object: 'chat.completion.chunk',
      created: this.meta.created,
      model: this.meta.model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs, finish_reason: finish }],
      usage: null,
    };
  }
}

function toolCallId(): string {
  return `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

function parseRequiredCalls(text: string): { name: string; parameters: unknown }[] | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (!Array.isArray(value)) return undefined;
    const calls = value.filter(
      (item): item is { name: string; parameters: unknown } =>
        isRecord(item) && typeof item.name === 'string',
    );
    return calls.length === value.length ? calls : undefined;
  } catch {
    return undefined;
  }
}

/** Folds streamed chunks into one `chat.completion` (the non-streamed answer is the stream collected). */
export class CompletionCollector {
  private content = '';
  private reasoning = '';
  private readonly toolCalls: ToolCall[] = [];
  private readonly logprobs: unknown[] = [];
  private sawLogprobs = false;

  add(chunk: ChatCompletionChunk): void {
    for (const choice of chunk.choices) {
      const { delta } = choice;
      if (typeof delta.content === 'string') this.content += delta.content;
      if (delta.reasoning_content !== undefined) this.reasoning += delta.reasoning_content;
      for (const call of delta.tool_calls ?? []) {
        const existing = this.toolCalls[call.index];
        if (existing === undefined) {
          this.toolCalls[call.index] = {
            id: call.id ?? toolCallId(),
            type: 'function',
            function: { name: call.function.name ?? '', arguments: call.function.arguments ?? '' },
          };
        } else {
          existing.function.arguments += call.function.arguments ?? '';
          if (call.function.name) existing.function.name += call.function.name;
        }
      }
      if (isRecord(choice.logprobs) && Array.isArray(choice.logprobs.content)) {
        this.sawLogprobs = true;
        this.logprobs.push(...choice.logprobs.content);
      }
    }
  }

  completion(
    meta: { id: string; created: number; model: string },
    finishReason: FinishReason,
    usage: Usage,
  ): ChatCompletion {
    const toolCalls = this.toolCalls.filter((call) => call !== undefined);
    return {
      id: meta.id,
      object: 'chat.completion',
      created: meta.created,
      model: meta.model,
      system_fingerprint: null,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: toolCalls.length > 0 && this.content === '' ? null : this.content,
            ...(this.reasoning !== '' ? { reasoning_content: this.reasoning } : {}),
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            refusal: null,
          },
          logprobs: this.sawLogprobs ? { content: this.logprobs } : null,
          finish_reason: finishReason,
        },
      ],
      usage,
    };
  }
}
