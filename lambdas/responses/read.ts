import type { PassThrough } from 'node:stream';
import { piecesOf } from '../chat/reattach';
import { PROGRESS_INTERVAL_MS } from '../chat/resumable';
import type { ResponseItemList, ResponseObject } from '../contracts/responses';
import {
  type ConversationStore,
  getMessageAt,
  requestStop,
  type StoredMessage,
} from '../conversations/store';
import { ValidationError } from '../shared/errors';
import { ResponseEventStream } from './events';
import { type AnswerView, answerOfStored, outcomeOf, responseObject } from './objects';
import {
  deleteResponse,
  deleteResponseItem,
  markCancelRequested,
  requireResponse,
  type StoredResponse,
} from './store';

/**
 * Reading stored responses: the `response` object (its answer read from the conversation), its events replayed
 * from the store while it is generated, its input items, and cancelling a background response through the
 * answer's stop flag (the same mechanism as `POST …/messages/{message_id}/stop`).
 */

/** A replayed stream ends after this long even if the answer never finishes (a generation is bounded too). */
const MAX_REPLAY_MS = 15 * 60_000;
/** `cancel` waits this many progress steps, at most, for the answer to stop. */
const CANCEL_WAIT_STEPS = 10;

const pause = () => new Promise((resolve) => setTimeout(resolve, PROGRESS_INTERVAL_MS));

async function answerMessage(
  store: ConversationStore,
  sub: string,
  stored: StoredResponse,
): Promise<StoredMessage | undefined> {
  if (stored.conversationId === undefined || stored.sequence === undefined) return undefined;
  const message = await getMessageAt(store, sub, stored.conversationId, stored.sequence, stored.region);
  return message?.role === 'assistant' ? message : undefined;
}

function headOf(stored: StoredResponse) {
  return {
    responseId: stored.responseId,
    createdAt: stored.createdAt,
    settings: stored.settings,
    conversationId: stored.conversationId ?? '',
  };
}

function objectOf(stored: StoredResponse, answer: AnswerView | undefined): ResponseObject {
  return responseObject(
    headOf(stored),
    answer,
    outcomeOf(answer, { ...stored, background: stored.settings.background }),
  );
}

/** The caller's response as it stands. */
export async function readResponse(
  store: ConversationStore,
  sub: string,
  responseId: string,
): Promise<ResponseObject> {
  const stored = await requireResponse(store, sub, responseId);
  const message = await answerMessage(store, sub, stored);
  return objectOf(stored, message ? answerOfStored(message) : undefined);
}

const settled = (stored: StoredResponse, message: StoredMessage | undefined) =>
  message ? message.status !== 'generating' : stored.error !== undefined;

/**
 * The response's events from the store, from `startingAfter` on: the stored answer's pieces as text deltas,
 * followed while it is generated (polled at the progress interval), then its items' done events and the terminal
 * event. The numbering is the same on every read, so a client re-attaches after the last number it saw.
 */
export function replayResponse(
  store: ConversationStore,
  sub: string,
  first: StoredResponse,
  startingAfter: number,
): PassThrough {
  const stream = new ResponseEventStream(startingAfter);
  const run = async () => {
    let stored = first;
    let message = await answerMessage(store, sub, stored);
    stream.encoder.start(objectOf(stored, undefined));
    let sent = 0;
    const endAt = Date.now() + MAX_REPLAY_MS;
    while (!stream.signal.aborted) {
      if (message) {
        const pieces = piecesOf(message);
        for (; sent < pieces.length; sent++) stream.encoder.text(message.messageId, pieces[sent] ?? '');
      }
      if (settled(stored, message) || Date.now() > endAt) break;
      await pause();
      if (!message) stored = await requireResponse(store, sub, stored.responseId);
      message = await answerMessage(store, sub, stored);
    }
    if (stream.signal.aborted) return;
    stored = await requireResponse(store, sub, stored.responseId);
    stream.encoder.end(objectOf(stored, message ? answerOfStored(message) : undefined));
  };
  run()
    .catch(() => stream.encoder.error('internal_error', 'The response could not be read.'))
    .finally(() => stream.close());
  return stream.body;
}

/** Cancels a background response: its answer's stop flag is set, then read until it stopped (bounded). */
export async function cancelResponse(
  store: ConversationStore,
  sub: string,
  responseId: string,
): Promise<ResponseObject> {
  let stored = await requireResponse(store, sub, responseId);
  if (!stored.settings.background)
    throw new ValidationError(
      'Only responses created with background: true can be cancelled.',
      'response_id',
    );
  let message = await answerMessage(store, sub, stored);
  if (!settled(stored, message)) {
    await markCancelRequested(store, sub, responseId);
    stored = { ...stored, cancelRequested: true };
    // An answer not started yet sees the flag when it starts; a generating one stops at its next progress step.
    for (let step = 0; step < CANCEL_WAIT_STEPS && message?.status === 'generating'; step++) {
      if (!message.stopRequested) await requestStop(store, sub, message);
      await pause();
      message = await answerMessage(store, sub, stored);
    }
  }
  return objectOf(stored, message ? answerOfStored(message) : undefined);
}

/** The response's input items, OpenAI's list shape: newest first by default, paged by item id. */
export async function listInputItems(
  store: ConversationStore,
  sub: string,
  responseId: string,
  query: {
    readonly limit: number;
    readonly order: 'asc' | 'desc';
    readonly after?: string;
    readonly before?: string;
  },
): Promise<ResponseItemList> {
  const stored = await requireResponse(store, sub, responseId);
  const ordered = query.order === 'asc' ? [...stored.inputItems] : [...stored.inputItems].reverse();
  const indexOf = (id: string, param: string) => {
    const index = ordered.findIndex((item) => item.id === id);
    if (index < 0) throw new ValidationError(`No input item '${id}' in this response.`, param);
    return index;
  };
  const start = query.after === undefined ? 0 : indexOf(query.after, 'after') + 1;
  const end = query.before === undefined ? ordered.length : indexOf(query.before, 'before');
  const page = ordered.slice(start, Math.max(start, end)).slice(0, query.limit);
  return {
    object: 'list',
    data: page,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
    has_more: start + page.length < Math.max(start, end),
  };
}

/** Deletes a stored response and the index of its output message (its exchange stays in the conversation). */
export async function removeResponse(
  store: ConversationStore,
  sub: string,
  responseId: string,
): Promise<void> {
  const stored = await requireResponse(store, sub, responseId);
  const message = await answerMessage(store, sub, stored);
  if (message) await deleteResponseItem(store, sub, message.messageId);
  await deleteResponse(store, sub, responseId);
}
