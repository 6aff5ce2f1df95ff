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

/** Where a message sits among its siblings (edits of one question, or answers to one question). */
export interface SiblingPosition {
  /** 0-based position among the siblings, oldest first. */
  readonly index: number;
  /** The siblings' ids, oldest first (the message itself included). */
  readonly ids: readonly string[];
}

/** The message's siblings: the same role, the same parent. Undefined for a message alone at its place. */
export function siblingsOf(
  conversation: Pick<ConversationDetail, 'messages'>,
  messageId: string,
): SiblingPosition | undefined {
  const message = conversation.messages.find((one) => one.id === messageId);
  if (!message) return undefined;
  const parent = message.parent_id ?? null;
  const ids = conversation.messages
    .filter((one) => one.role === message.role && (one.parent_id ?? null) === parent)
    .map((one) => one.id);
  return ids.length > 1 ? { index: ids.indexOf(messageId), ids } : undefined;
}

/**
 * The newest leaf under `messageId` (itself when nothing follows it), following the newest child each time: the
 * message to make current when switching to that branch.
 */
export function newestLeafUnder(
  conversation: Pick<ConversationDetail, 'messages'>,
  messageId: string,
): string {
  const newestChild = new Map<string, string>();
  for (const message of conversation.messages)
    if (message.parent_id) newestChild.set(message.parent_id, message.id);
  let leaf = messageId;
  // Bounded by the number of messages: each step goes one message deeper.
  for (let step = 0; step < conversation.messages.length; step++) {
    const child = newestChild.get(leaf);
    if (child === undefined) break;
    leaf = child;
  }
  return leaf;
}

/**
 * Gives shown messages their stored ids from the conversation: walking back from a message whose id is known
 * (an answer's id arrives with its stream), each message before it is that one's parent. Messages that already
 * have an id keep it; nothing else changes.
 */
export function withStoredIds<T extends { readonly id?: string | undefined; readonly role: string }>(
  shown: readonly T[],
  conversation: Pick<ConversationDetail, 'messages'>,
): T[] {
  const byId = new Map(conversation.messages.map((message) => [message.id, message]));
  const result = [...shown];
  for (let index = result.length - 1; index > 0; index--) {
    const known = result[index]?.id;
    const before = result[index - 1];
    if (known === undefined || before === undefined || before.id !== undefined) continue;
    const parent = byId.get(byId.get(known)?.parent_id ?? '');
    if (parent && parent.role === before.role) result[index - 1] = { ...before, id: parent.id };
  }
  return result;
}
