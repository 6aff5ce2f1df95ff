import { logger } from '../shared/powertools';
import type { StoredMessage } from './store';

/**
 * A `generating` answer whose generation is provably over: the process that wrote it can no longer write. A
 * generation runs inside one chat invocation (its deadline is the function's timeout, at most Lambda's 15
 * minutes, `api.chatTimeoutSeconds`), which begins before the answer's `generating` record is written
 * (`createdAt`). Past that, nobody will finish the answer — its final write failed or its process died — so it
 * reads as `interrupted` with the text it stored, and a re-attached stream ends instead of waiting.
 */

/** The longest a chat invocation, and so a generation and its final write, can run (Lambda's hard limit). */
export const GENERATION_LIFETIME_MS = 15 * 60_000;

export function isAbandoned(message: StoredMessage, nowMs: number): boolean {
  if (message.status !== 'generating') return false;
  const startedAt = Date.parse(message.createdAt);
  return !Number.isFinite(startedAt) || nowMs - startedAt > GENERATION_LIFETIME_MS;
}

/** The message as readers see it: an abandoned answer as `interrupted` (and reported), anything else as stored. */
export function settleAbandoned(message: StoredMessage, nowMs: number): StoredMessage {
  if (!isAbandoned(message, nowMs)) return message;
  logger.warn('an answer outlived its generation and reads as interrupted', {
    conversationId: message.conversationId,
    sequence: message.sequence,
    createdAt: message.createdAt,
  });
  return { ...message, status: 'interrupted' };
}
