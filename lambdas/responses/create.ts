import type { Readable } from 'node:stream';
import { type ChatCaller, type ChatDeps, runTurn, type TurnHead, type TurnRecord } from '../chat/pipeline';
import type { TurnRef } from '../chat/prepare';
import type { ResponseCreateRequest } from '../contracts/responses';
import { getMessageAt } from '../conversations/store';
import type { QuotaState } from '../quota';
import { ValidationError } from '../shared/errors';
import { logger } from '../shared/powertools';
import { asResponsesError, chatRequestOf, inputItemsOf, type PreviousTurn, settingsOf } from './convert';
import { ResponseEventStream } from './events';
import { answerOfRecord, outcomeOf, type ResponseHead, responseObject } from './objects';
import { replayResponse } from './read';
import { resolveReferences } from './references';
import {
  deleteResponse,
  markResponseFailed,
  newResponseId,
  putResponse,
  putResponseItem,
  requireResponse,
  type StoredResponse,
} from './store';

/**
 * `POST /v1/responses`: the request becomes a chat turn (`convert.ts`) and runs on the chat pipeline —
 * admission, moderation, context, persistence, metrics and events are the pipeline's. The response record is
 * stored once the turn has its place in the conversation (unless `store: false`); a plain request is answered
 * with the `response` object, a streamed one with the typed events, a background one at once, its answer then
 * generated as a resumable answer (read, re-attached and cancelled through the store).
 */

export interface CreateOptions {
  readonly signal?: AbortSignal | undefined;
  readonly deadlineAt?: number | undefined;
  /** Keeps the invocation alive for work that outlives the HTTP response (a background answer). */
  readonly continueAfterResponse: (work: Promise<unknown>) => void;
}

/** What the handler sends: a JSON object or an event stream, and the turn's headers. */
export type Created =
  | { readonly kind: 'json'; readonly status: number; readonly body: unknown; readonly head: CreatedHead }
  | { readonly kind: 'stream'; readonly body: Readable; readonly head: CreatedHead };

export interface CreatedHead {
  readonly conversationId: string;
  readonly turnsDropped: number;
  readonly quota: QuotaState | undefined;
}

/** The branch a `previous_response_id` continues: the stored response's conversation, up to its answer. */
async function previousTurnOf(deps: ChatDeps, sub: string, responseId: string): Promise<PreviousTurn> {
  const stored = await requireResponse(deps.store, sub, responseId, 'previous_response_id');
  const message =
    stored.conversationId === undefined || stored.sequence === undefined
      ? undefined
      : await getMessageAt(deps.store, sub, stored.conversationId, stored.sequence, stored.region);
  if (!message || message.status === 'generating' || stored.conversationId === undefined)
    throw new ValidationError(
      'The previous response has not finished yet; continue from it once it has.',
      'previous_response_id',
      'response_in_progress',
    );
  return {
    conversationId: stored.conversationId,
    answerMessageId: message.messageId,
    callIds: new Set((message.toolCalls ?? []).map((call) => call.id)),
  };
}

const headOfTurn = (
  turn: Pick<TurnRecord, 'turnsDropped' | 'quota'>,
  conversationId: string,
): CreatedHead => ({
  conversationId,
  turnsDropped: turn.turnsDropped,
  quota: turn.quota,
});

export async function createResponse(
  deps: ChatDeps,
  caller: ChatCaller,
  asked: ResponseCreateRequest,
  options: CreateOptions,
): Promise<Created> {
  let request = asked;
  const startedAt = Date.now();
  const background = request.background === true;
  const streaming = request.stream === true;
  const stored = request.store !== false;
  const previous = request.previous_response_id
    ? await previousTurnOf(deps, caller.sub, request.previous_response_id)
    : undefined;
  request = await resolveReferences(deps.store, caller.sub, request);
  const chatRequest = chatRequestOf(request, previous, {
    stream: streaming || background,
    resumable: background,
  });
  const responseId = newResponseId();
  const createdAt = Math.floor(startedAt / 1000);
  const settings = settingsOf(request, deps.modelId);
  const inputItems = inputItemsOf(request);
  let head: ResponseHead | undefined;
  let placed: ((head: ResponseHead) => void) | undefined;
  const prepared = new Promise<ResponseHead>((resolve) => {
    placed = resolve;
  });
  /** The response record's write: awaited before the response is shown as finished (a background one at once). */
  let recorded: Promise<void> = Promise.resolve();
  // The turn has its place (admitted, moderated, its question stored): the response can be read from now on.
  const onPrepared = async (ref: TurnRef) => {
    head = { responseId, createdAt, settings, conversationId: ref.conversationId };
    if (stored) {
      const record: StoredResponse = {
        responseId,
        createdAt,
        settings,
        inputItems,
        conversationId: ref.conversationId,
        sequence: ref.answerSequence,
        ...(deps.store.region === undefined ? {} : { region: deps.store.region }),
      };
      // Written while the model starts; observed here so a failure is never unhandled.
      recorded = putResponse(deps.store, caller.sub, record, startedAt);
      recorded.catch(() => undefined);
      if (background) await recorded;
    }
    placed?.(head);
  };
  /** The answer's output message, findable by its id (`item_reference` inputs of later requests). */
  const indexAnswer = (answer: { readonly messageId: string; readonly sequence: number } | undefined) =>
    stored && answer && head
      ? putResponseItem(deps.store, caller.sub, answer.messageId, {
          responseId,
          conversationId: head.conversationId,
          sequence: answer.sequence,
          ...(deps.store.region === undefined ? {} : { region: deps.store.region }),
        }).catch((error: unknown) =>
          logger.warn('indexing a response item failed', { error: error as Error }),
        )
      : Promise.resolve();
  const forget = async () => {
    if (!stored || !head) return;
    // After its write (still in flight, perhaps), so the delete cannot come first.
    await recorded.catch(() => undefined);
    await deleteResponse(deps.store, caller.sub, responseId).catch(() => undefined);
  };
  const fail = async (error: unknown): Promise<never> => {
    await forget();
    throw asResponsesError(error);
  };

  if (background) {
    return startBackground(deps, caller, {
      chatRequest,
      responseId,
      prepared,
      onPrepared,
      options,
      fail,
      streaming,
      indexAnswer,
    });
  }

  if (!streaming) {
    const record = await runTurn(deps, caller, chatRequest, {
      ...(options.signal ? { signal: options.signal } : {}),
      deadlineAt: options.deadlineAt,
      onPrepared,
    }).catch(fail);
    await recorded.catch(fail);
    if (!record.error) await indexAnswer(record.answer);
    const turnHead = headOfTurn(record, record.completion.conversation_id);
    if (record.error || !head) {
      await forget();
      return {
        kind: 'json',
        status: record.error?.status ?? 500,
        body: { error: record.error?.error },
        head: turnHead,
      };
    }
    const answer = answerOfRecord(record, record.answer?.messageId ?? '');
    return {
      kind: 'json',
      status: 200,
      body: responseObject(head, answer, outcomeOf(answer, {})),
      head: turnHead,
    };
  }

  const stream = new ResponseEventStream();
  let messageId = '';
  let started: ((turn: TurnHead) => void) | undefined;
  const firstToken = new Promise<TurnHead>((resolve) => {
    started = resolve;
  });
  const startEvents = () => {
    if (head) stream.encoder.start(responseObject(head, undefined, outcomeOf(undefined, {})));
  };
  const signals = [options.signal, stream.signal].filter((one): one is AbortSignal => one !== undefined);
  const outcome = runTurn(deps, caller, chatRequest, {
    signal: AbortSignal.any(signals),
    deadlineAt: options.deadlineAt,
    onPrepared,
    onStart: (turn) => {
      messageId = turn.messageId;
      startEvents();
      started?.(turn);
    },
    onText: (text) => stream.encoder.text(messageId, text),
    onToolCall: (delta) => stream.encoder.toolCall(delta),
  });
  const finish = (record: TurnRecord) => {
    if (!head) return;
    const answer = answerOfRecord(record, record.answer?.messageId ?? messageId);
    stream.encoder.end(responseObject(head, answer, outcomeOf(answer, {})));
  };
  const first = await Promise.race([firstToken.then((turn) => ({ turn })), outcome.catch(fail)]);
  if ('turn' in first) {
    outcome
      .then(async (record) => {
        await recorded;
        await indexAnswer(record.answer);
        finish(record);
      })
      .catch((error: unknown) => {
        logger.error('a streamed response failed', { error: error as Error });
        stream.encoder.error('internal_error', 'The response failed. Please retry.');
      })
      .finally(() => stream.close());
    return { kind: 'stream', body: stream.body, head: headOfTurn(first.turn, first.turn.conversationId) };
  }
  // The model ended without a single event: the whole (empty) answer at once.
  await recorded.catch(fail);
  startEvents();
  finish(first);
  stream.close();
  return { kind: 'stream', body: stream.body, head: headOfTurn(first, first.completion.conversation_id) };
}

/**
 * A background response: answered as soon as its turn has a place (status `queued`), its answer generated as a
 * resumable answer while the invocation lives on; a stream of it is read from the store like a re-attach.
 */
async function startBackground(
  deps: ChatDeps,
  caller: ChatCaller,
  turn: {
    readonly chatRequest: ReturnType<typeof chatRequestOf>;
    readonly responseId: string;
    readonly prepared: Promise<ResponseHead>;
    readonly onPrepared: (ref: TurnRef) => Promise<void>;
    readonly options: CreateOptions;
    readonly fail: (error: unknown) => Promise<never>;
    readonly streaming: boolean;
    readonly indexAnswer: (answer: {
      readonly messageId: string;
      readonly sequence: number;
    }) => Promise<unknown>;
  },
): Promise<Created> {
  const { chatRequest, responseId, options } = turn;
  let quota: QuotaState | undefined;
  // Not the client (it is gone at once): only a cancel that came before the first token aborts the turn.
  const cancelled = new AbortController();
  const running = runTurn(deps, caller, chatRequest, {
    resumable: true,
    signal: cancelled.signal,
    deadlineAt: options.deadlineAt,
    onPrepared: turn.onPrepared,
    onStart: (started) => {
      quota = started.quota;
      turn.indexAnswer(started);
      requireResponse(deps.store, caller.sub, responseId)
        .then((stored) => {
          if (stored.cancelRequested) cancelled.abort();
        })
        .catch((error: unknown) => logger.warn('reading a cancel request failed', { error: error as Error }));
    },
  });
  const head = await Promise.race([turn.prepared, running.then(() => undefined)]).catch(turn.fail);
  if (!head) {
    // The turn ended without taking its place (nothing was asked of the model): nothing to continue.
    throw new ValidationError('The response could not be started.', 'input');
  }
  options.continueAfterResponse(
    running
      .catch(async (error: unknown) => {
        const failure = asResponsesError(error);
        const message = failure instanceof Error ? failure.message : 'The response failed.';
        await markResponseFailed(deps.store, caller.sub, responseId, { code: 'server_error', message });
      })
      .catch((error: unknown) => logger.error('a background response failed', { error: error as Error })),
  );
  const created: CreatedHead = { conversationId: head.conversationId, turnsDropped: 0, quota };
  if (turn.streaming) {
    const stored = await requireResponse(deps.store, caller.sub, responseId);
    return { kind: 'stream', body: replayResponse(deps.store, caller.sub, stored, -1), head: created };
  }
  const queued = responseObject(head, undefined, outcomeOf(undefined, { background: true }));
  return { kind: 'json', status: 200, body: queued, head: created };
}
