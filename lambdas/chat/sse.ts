import { PassThrough } from 'node:stream';
import type { ChatCompletionChunk, FinishReason, TokenLogprob, ToolCallDelta, Usage } from '../contracts/api';
import type { TurnHead, TurnRecord } from './pipeline';

/**
 * The OpenAI SSE encoding of a turn: a role delta, content deltas, a finish chunk, an optional usage chunk and
 * `[DONE]` — or an error event when the answer broke. Knows nothing about how the answer is made.
 */

/** How often a `: keepalive` comment goes out when nothing else did (proxies cut idle streams). */
export const KEEPALIVE_MS = 15_000;

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

type ChunkBase = Pick<TurnHead, 'id' | 'created' | 'model' | 'conversationId'>;

export function chunkOf(
  base: ChunkBase,
  delta: ChatCompletionChunk['choices'][number]['delta'] | null,
  finishReason: FinishReason | null,
  usage: Usage | null = null,
  logprobs: readonly TokenLogprob[] | null = null,
): ChatCompletionChunk {
  const choiceLogprobs = logprobs === null ? null : { content: [...logprobs], refusal: null };
  return {
    id: base.id,
    object: 'chat.completion.chunk',
    created: base.created,
    model: base.model,
    choices:
      delta === null ? [] : [{ index: 0, delta, finish_reason: finishReason, logprobs: choiceLogprobs }],
    usage,
    conversation_id: base.conversationId,
  };
}

/** The events after the last content delta: finish (+ usage) and `[DONE]`, or the error event. */
function endingOf(base: ChunkBase, record: TurnRecord, includeUsage: boolean): string {
  if (record.error) return sseData({ error: record.error.error });
  const choice = record.completion.choices[0];
  const parts = [sseData(chunkOf(base, {}, choice?.finish_reason ?? 'stop'))];
  // chatstack's extension: the passages of attached files the answer was given, before the usage chunk.
  const citations = record.completion.citations;
  if (citations !== undefined) parts.push(sseData({ ...chunkOf(base, null, null), citations }));
  if (includeUsage) parts.push(sseData(chunkOf(base, null, null, record.completion.usage)));
  parts.push(SSE_DONE);
  return parts.join('');
}

function baseOf(record: TurnRecord): ChunkBase {
  const { id, created, model, conversation_id: conversationId } = record.completion;
  return { id, created, model, conversationId };
}

/** The SSE events of a stored (finished) turn: how an idempotent retry of a streamed request is answered. */
export function replayAsSse(record: TurnRecord, includeUsage: boolean): string {
  const base = baseOf(record);
  const choice = record.completion.choices[0];
  const content = choice?.message.content ?? '';
  const reasoning = choice?.message.reasoning_content ?? '';
  const toolCalls = choice?.message.tool_calls ?? [];
  const logprobs = choice?.logprobs?.content ?? null;
  return [
    sseData(chunkOf(base, { role: 'assistant', content: '' }, null)),
    reasoning === '' ? '' : sseData(chunkOf(base, { reasoning_content: reasoning }, null)),
    content === '' ? '' : sseData(chunkOf(base, { content }, null, null, logprobs)),
    toolCalls.length === 0
      ? ''
      : sseData(chunkOf(base, { tool_calls: toolCalls.map((call, index) => ({ index, ...call })) }, null)),
    endingOf(base, record, includeUsage),
  ].join('');
}

/**
 * A live SSE body: `start` writes the role chunk, `text` each delta, `end` the ending; keep-alive comments fill
 * silences. `signal` fires when the client closes the stream before its end.
 */
export class SseWriter {
  readonly body = new PassThrough();
  private readonly closed = new AbortController();
  private base: ChunkBase | undefined;
  private lastWriteAt = Date.now();
  private keepalive: NodeJS.Timeout | undefined;

  constructor(private readonly keepaliveMs: number = KEEPALIVE_MS) {
    this.body.on('close', () => {
      if (!this.body.writableEnded) this.closed.abort();
      clearInterval(this.keepalive);
    });
  }

  get signal(): AbortSignal {
    return this.closed.signal;
  }

  start(head: TurnHead): void {
    this.base = head;
    this.write(sseData(chunkOf(head, { role: 'assistant', content: '' }, null)));
    this.keepalive = setInterval(
      () => {
        if (Date.now() - this.lastWriteAt >= this.keepaliveMs) this.write(': keepalive\n\n');
      },
      Math.max(10, Math.floor(this.keepaliveMs / 3)),
    );
  }

  /** An answer delta; the log probabilities of its tokens ride along when the client asked for them. */
  text(delta: string, logprobs: readonly TokenLogprob[] | null = null): void {
    if (this.base) this.write(sseData(chunkOf(this.base, { content: delta }, null, null, logprobs)));
  }

  reasoning(delta: string): void {
    if (this.base) this.write(sseData(chunkOf(this.base, { reasoning_content: delta }, null)));
  }

  toolCall(delta: ToolCallDelta): void {
    if (this.base) this.write(sseData(chunkOf(this.base, { tool_calls: [delta] }, null)));
  }

  /** Ends the stream with the record's finish (or error event); `includeUsage` adds the usage chunk. */
  end(record: TurnRecord, includeUsage: boolean): void {
    this.write(endingOf(this.base ?? baseOf(record), record, includeUsage));
    this.close();
  }

  /** Ends the stream with an error event for a failure the turn did not turn into a record. */
  fail(message: string): void {
    this.write(sseData({ error: { message, type: 'server_error', param: null, code: 'internal_error' } }));
    this.close();
  }

  private write(text: string): void {
    if (this.body.destroyed || this.body.writableEnded) return;
    this.lastWriteAt = Date.now();
    this.body.write(text);
  }

  private close(): void {
    clearInterval(this.keepalive);
    if (!this.body.destroyed && !this.body.writableEnded) this.body.end();
  }
}
