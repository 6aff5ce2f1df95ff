import { PassThrough } from 'node:stream';
import type { ChatCompletion, ChatCompletionChunk, FinishReason, Usage } from '../contracts/api';
import {
  InferenceAbortedError,
  type InferenceEvent,
  InferenceInterruptedError,
  streamChat,
} from '../inference';
import type { Verdict } from '../moderation/types';
import type { OpenAiErrorBody } from '../shared/errors';
import { logger } from '../shared/powertools';
import { completionId } from './complete';
import {
  type ChatCaller,
  type ChatDeps,
  type PreparedTurn,
  persistTurn,
  persistUnansweredTurn,
  usageOrEstimate,
} from './turn';

/** How often a `: keepalive` comment goes out when nothing else did (proxies cut idle streams). */
export const KEEPALIVE_MS = 15_000;

/** What a finished turn leaves behind: the answer as a completion object (also replayed for idempotent retries). */
export interface TurnRecord {
  readonly completion: ChatCompletion;
  readonly turnsDropped: number;
  /** Set when the stream ended with an error event instead of a finish. */
  readonly error?: OpenAiErrorBody;
}

export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

export function chunkOf(
  base: { id: string; created: number; model: string; conversationId: string },
  delta: ChatCompletionChunk['choices'][number]['delta'] | null,
  finishReason: FinishReason | null,
  usage: Usage | null = null,
): ChatCompletionChunk {
  return {
    id: base.id,
    object: 'chat.completion.chunk',
    created: base.created,
    model: base.model,
    choices: delta === null ? [] : [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    usage,
    conversation_id: base.conversationId,
  };
}

/** The SSE events for a stored completion: how an idempotent retry of a streamed request is answered. */
export function replayAsSse(record: TurnRecord, includeUsage: boolean): string {
  const completion = record.completion;
  const base = {
    id: completion.id,
    created: completion.created,
    model: completion.model,
    conversationId: completion.conversation_id,
  };
  const choice = completion.choices[0];
  const parts = [sseData(chunkOf(base, { role: 'assistant', content: '' }, null))];
  if (choice?.message.content) parts.push(sseData(chunkOf(base, { content: choice.message.content }, null)));
  if (record.error) {
    parts.push(sseData(record.error));
    return parts.join('');
  }
  parts.push(sseData(chunkOf(base, {}, choice?.finish_reason ?? 'stop')));
  if (includeUsage) parts.push(sseData(chunkOf(base, null, null, completion.usage)));
  parts.push(SSE_DONE);
  return parts.join('');
}

const interruptedError = (message: string): OpenAiErrorBody => ({
  error: { message, type: 'server_error', param: null, code: 'stream_interrupted' },
});

export interface StreamingTurn {
  /** The SSE body; the handler returns it with the response headers. */
  readonly body: PassThrough;
  /** Settles after the answer is persisted, before `[DONE]`: the caller stores it, then calls `end()`. */
  readonly record: Promise<TurnRecord>;
  /** Writes `[DONE]` (unless the stream ended with an error event) and closes the stream. */
  end(): void;
}

/**
 * Opens the model stream and waits for its first event, so a failure before the first token is still a
 * clean HTTP error; then streams the rest as OpenAI SSE in the background: role delta, content deltas
 * (through the windowed output filter), a finish chunk, an optional usage chunk, keep-alives during
 * silences, and an error event if the model breaks mid-way. The answer is persisted in every case
 * (`interrupted` with the partial text when the client leaves or the model fails).
 */
export async function startStreamingTurn(
  deps: ChatDeps,
  caller: ChatCaller,
  turn: PreparedTurn,
  options: { readonly includeUsage: boolean; readonly keepaliveMs?: number; readonly signal?: AbortSignal },
): Promise<StreamingTurn> {
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const events = streamChat(deps.inference, turn.prompt, abort.signal);
  let first: IteratorResult<InferenceEvent, void>;
  try {
    first = await events.next();
  } catch (error) {
    options.signal?.removeEventListener('abort', onOuterAbort);
    await persistUnansweredTurn(
      deps,
      caller,
      turn,
      error instanceof InferenceAbortedError ? 'client_disconnected' : 'model_unavailable',
    );
    throw error;
  }
  // As the client sees it: from the request's arrival (validation, quota, context included).
  const timeToFirstTokenMs = Date.now() - turn.startedAt;

  const body = new PassThrough();
  let lastWriteAt = Date.now();
  let clientGone = false;
  let errored = false;
  body.on('close', () => {
    if (!body.writableEnded) {
      clientGone = true;
      abort.abort();
    }
  });
  const write = (text: string) => {
    if (clientGone || body.destroyed || body.writableEnded) return;
    lastWriteAt = Date.now();
    body.write(text);
  };
  const keepaliveMs = options.keepaliveMs ?? KEEPALIVE_MS;
  const keepalive = setInterval(
    () => {
      if (Date.now() - lastWriteAt >= keepaliveMs) write(': keepalive\n\n');
    },
    Math.max(10, Math.floor(keepaliveMs / 3)),
  );

  const base = {
    id: completionId(),
    created: Math.floor(Date.now() / 1000),
    model: deps.modelId,
    conversationId: turn.conversation.conversationId,
  };
  write(sseData(chunkOf(base, { role: 'assistant', content: '' }, null)));

  const run = async (): Promise<TurnRecord> => {
    const filter = deps.moderation.createOutputFilter({ prompt: turn.promptText });
    let text = '';
    let modelText = '';
    let finishReason: FinishReason | undefined;
    let reportedUsage: Usage | undefined;
    let verdict: Verdict | undefined;
    let failure: OpenAiErrorBody | undefined;
    let errorCode: string | undefined;
    const emit = (emitted: string) => {
      if (emitted === '') return;
      text += emitted;
      write(sseData(chunkOf(base, { content: emitted }, null)));
    };
    const handle = async (event: InferenceEvent): Promise<boolean> => {
      if (event.type === 'usage') reportedUsage = event.usage;
      else if (event.type === 'finish') finishReason = event.reason;
      else {
        modelText += event.text;
        const result = await filter.push(event.text);
        emit(result.emit);
        if (result.verdict) verdict = result.verdict;
        if (result.verdict?.action === 'block') return false;
      }
      return true;
    };
    try {
      let keepGoing = first.done ? true : await handle(first.value);
      if (!first.done && keepGoing) {
        for await (const event of { [Symbol.asyncIterator]: () => events }) {
          keepGoing = await handle(event);
          if (!keepGoing) break;
        }
      }
      if (verdict?.action === 'block') {
        finishReason = 'content_filter';
      } else {
        const flushed = await filter.flush();
        emit(flushed.emit);
        if (flushed.verdict) verdict = flushed.verdict;
        if (flushed.verdict?.action === 'block') finishReason = 'content_filter';
      }
    } catch (error) {
      if (error instanceof InferenceAbortedError || clientGone) {
        errorCode = 'client_disconnected';
      } else {
        errorCode = error instanceof InferenceInterruptedError ? 'stream_interrupted' : 'internal_error';
        if (!(error instanceof InferenceInterruptedError))
          logger.error('streaming failed', { error: error as Error });
        failure = interruptedError('The model stopped before finishing the answer. Please retry.');
      }
    } finally {
      await events.return(undefined).catch(() => undefined);
    }
    if (errorCode !== undefined && verdict?.action !== 'block') {
      // Interrupted: release what the filter held back (checked like any window), so the partial answer is whole.
      try {
        const flushed = await filter.flush();
        if (flushed.verdict?.action === 'block') verdict = flushed.verdict;
        else if (clientGone) text += flushed.emit;
        else emit(flushed.emit);
      } catch (error) {
        logger.warn('output filter flush failed', { error: error as Error });
      }
    }

    const usage = usageOrEstimate(reportedUsage, turn, modelText);
    const interrupted = errorCode !== undefined;
    const finish: FinishReason = finishReason ?? 'stop';
    if (failure) {
      errored = true;
      write(sseData(failure));
    } else if (!interrupted) {
      write(sseData(chunkOf(base, {}, finish)));
      if (options.includeUsage) write(sseData(chunkOf(base, null, null, usage)));
    }
    await persistTurn(deps, caller, turn, {
      text,
      status: interrupted ? 'interrupted' : finish === 'content_filter' ? 'content_filter' : 'complete',
      finishReason: interrupted ? undefined : finish,
      usage,
      outputVerdict: verdict,
      timeToFirstTokenMs,
      ...(errorCode ? { errorCode } : {}),
    });
    return {
      completion: {
        id: base.id,
        object: 'chat.completion',
        created: base.created,
        model: base.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null },
            finish_reason: finish,
            logprobs: null,
          },
        ],
        usage,
        conversation_id: base.conversationId,
      },
      turnsDropped: turn.turnsDropped,
      ...(failure ? { error: failure } : {}),
    };
  };

  const record = run().finally(() => {
    clearInterval(keepalive);
    options.signal?.removeEventListener('abort', onOuterAbort);
  });
  return {
    body,
    record,
    end: () => {
      clearInterval(keepalive);
      if (!errored) write(SSE_DONE);
      if (!body.destroyed && !body.writableEnded) body.end();
    },
  };
}
