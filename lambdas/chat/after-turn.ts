import type { MessageStatus } from '../contracts/api';
import { indexMessages } from '../search/index-store';
import { logger } from '../shared/powertools';
import type { ChatDeps } from './pipeline';
import type { PreparedTurn } from './prepare';

/**
 * What follows a stored answer, beside the analytics event: the turn's words go into the caller's search index,
 * and a new conversation's first answer asks for a title (a job on the queue, off this request). Neither can fail
 * the turn: the index can be rebuilt from the messages, and a missing title leaves the first question as title.
 */
export async function afterTurn(
  deps: Pick<ChatDeps, 'store' | 'requestTitle'>,
  sub: string,
  turn: PreparedTurn,
  answer: { readonly text: string; readonly status: MessageStatus },
  regenerated: boolean,
): Promise<void> {
  const place = await turn.place.catch(() => undefined);
  if (place === undefined) return;
  const texts = [turn.promptText, ...(answer.status === 'content_filter' ? [] : [answer.text])];
  const indexing = indexMessages(deps.store, sub, turn.conversationId, texts).catch((error: unknown) =>
    logger.warn('the turn was not added to the search index', { error: error as Error }),
  );
  const firstAnswer =
    place.firstSequence === 0 && !regenerated && turn.resumed !== true && answer.status === 'complete';
  const titling =
    firstAnswer && deps.requestTitle
      ? deps
          .requestTitle(sub, turn.conversationId)
          .catch((error: unknown) => logger.warn('no title was asked for', { error: error as Error }))
      : undefined;
  await Promise.all([indexing, titling]);
}
