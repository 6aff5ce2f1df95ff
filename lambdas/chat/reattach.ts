import { PassThrough } from 'node:stream';
import type { FinishReason } from '../contracts/api';
import { findMessage } from '../conversations/message-index';
import {
  type ConversationStore,
  getMessageAt,
  requestStop,
  requireConversation,
  type StoredMessage,
} from '../conversations/store';
import { NotFoundError } from '../shared/errors';
import { PROGRESS_INTERVAL_MS } from './resumable';
import { chunkOf, SSE_DONE, sseData } from './sse';

/**
 * Re-attaching to a stored answer and stopping it. A re-attached stream is read from the store, never from the
 * generating process (which may run in another instance): the role chunk, then one content chunk per stored piece
 * (`after` skips that many), polled at the progress interval while the answer is `generating`, then the finish
 * chunk and `[DONE]`.
 */

/** A re-attached stream ends after this long even if the answer never finishes (a generation is bounded too). */
const MAX_REATTACH_MS = 15 * 60_000;

/** The caller's message by id; someone else's (or a missing) one is a 404 naming `message_id`. */
export async function requireAnswer(
  store: ConversationStore,
  sub: string,
  conversationId: string,
  messageId: string,
): Promise<StoredMessage> {
  await requireConversation(store, sub, conversationId);
  const message = await findMessage(store, sub, conversationId, messageId);
  if (message?.role !== 'assistant') throw new NotFoundError('Message', 'message_id');
  return message;
}

/** The pieces a stored answer streams as: its chunks, or its whole text for an answer stored in one piece. */
function piecesOf(message: StoredMessage): readonly string[] {
  if (message.chunks) return message.chunks;
  return message.content === '' ? [] : [message.content];
}

/** Streams a stored answer as SSE from piece `after` on, following it while it is generated. */
export function reattachStream(
  store: ConversationStore,
  sub: string,
  answer: StoredMessage,
  after: number,
  signal?: AbortSignal,
): PassThrough {
  const body = new PassThrough();
  const base = {
    id: `chatcmpl-${answer.messageId.slice('msg_'.length)}`,
    created: Math.floor(new Date(answer.createdAt).getTime() / 1000),
    model: answer.model ?? '',
    conversationId: answer.conversationId,
  };
  const write = (text: string) => {
    if (!body.destroyed && !body.writableEnded) body.write(text);
  };
  const run = async () => {
    write(sseData(chunkOf(base, { role: 'assistant', content: '' }, null)));
    let sent = after;
    let current: StoredMessage | undefined = answer;
    const endAt = Date.now() + MAX_REATTACH_MS;
    while (current && !signal?.aborted && !body.destroyed) {
      const pieces = piecesOf(current);
      for (; sent < pieces.length; sent++) write(sseData(chunkOf(base, { content: pieces[sent] }, null)));
      if (current.status !== 'generating' || Date.now() > endAt) break;
      await new Promise((resolve) => setTimeout(resolve, PROGRESS_INTERVAL_MS));
      current = await getMessageAt(store, sub, answer.conversationId, answer.sequence);
    }
    const finish: FinishReason =
      current?.finishReason ?? (current?.status === 'content_filter' ? 'content_filter' : 'stop');
    write(sseData(chunkOf(base, {}, finish)));
    write(SSE_DONE);
  };
  run()
    .catch(() =>
      write(
        sseData({
          error: {
            message: 'The answer could not be read.',
            type: 'server_error',
            param: null,
            code: 'internal_error',
          },
        }),
      ),
    )
    .finally(() => {
      if (!body.destroyed && !body.writableEnded) body.end();
    });
  return body;
}

/** Asks a generating answer to stop; its process sees the flag at its next progress step. */
export async function stopAnswer(
  store: ConversationStore,
  sub: string,
  answer: StoredMessage,
): Promise<{ readonly stopping: boolean }> {
  return { stopping: answer.status === 'generating' && (await requestStop(store, sub, answer)) };
}
