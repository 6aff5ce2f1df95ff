import type { ResponseCreateRequest } from '../contracts/responses';
import { type ConversationStore, getMessageAt } from '../conversations/store';
import { NotFoundError } from '../shared/errors';
import { findResponseItem } from './store';

/**
 * `item_reference` inputs (the AI SDK sends them for earlier answers when responses are stored): each names the
 * output message of one of the caller's stored responses and stands for it, as an assistant message with its text.
 * Someone else's, a deleted or an unknown item is a 404 naming the item.
 */
export async function resolveReferences(
  store: ConversationStore,
  sub: string,
  request: ResponseCreateRequest,
): Promise<ResponseCreateRequest> {
  const input = request.input;
  if (typeof input === 'string' || !input.some((item) => item.type === 'item_reference')) return request;
  const resolved = await Promise.all(
    input.map(async (item, index) => {
      if (item.type !== 'item_reference') return item;
      const place = await findResponseItem(store, sub, item.id);
      const message =
        place && (await getMessageAt(store, sub, place.conversationId, place.sequence, place.region));
      if (message?.role !== 'assistant' || message.messageId !== item.id || message.status === 'generating')
        throw new NotFoundError('Item', `input[${index}].id`);
      return { type: 'message' as const, role: 'assistant' as const, content: message.content };
    }),
  );
  return { ...request, input: resolved };
}
