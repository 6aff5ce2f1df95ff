import type { ConversationDetail, StoredMessage } from './api';

/**
 * The active branch of a stored conversation: `parent_id` followed from `current_message_id` to the root, root
 * first. Edited questions and regenerated answers on other branches stay stored; they are not shown here.
 */
export function activeBranch(conversation: ConversationDetail): StoredMessage[] {
  const byId = new Map(conversation.messages.map((message) => [message.id, message]));
  const path: StoredMessage[] = [];
  let next = byId.get(conversation.current_message_id ?? '') ?? conversation.messages.at(-1);
  // Bounded by the number of messages: each step goes one message closer to the root.
  while (next && path.length < conversation.messages.length) {
    path.push(next);
    next = next.parent_id ? byId.get(next.parent_id) : undefined;
  }
  return path.reverse();
}
