import type { StoredMessage } from './store';

/**
 * A conversation is a tree: every message follows its parent, siblings are edits of a question or regenerated
 * answers. These are pure functions over the stored messages (oldest first); the active branch is the path from
 * the root to the conversation's current leaf.
 */

/** Messages with their parents: one stored before branches (no `parentId`) follows the message stored before it. */
export function withParents(messages: readonly StoredMessage[]): StoredMessage[] {
  return messages.map((message, index) => {
    if (message.parentId !== undefined) return message;
    return { ...message, parentId: messages[index - 1]?.messageId ?? null };
  });
}

/** The newest leaf under `messageId` (itself when it has no children), following the newest child each time. */
export function newestLeafUnder(messages: readonly StoredMessage[], messageId: string): string {
  const newestChild = new Map<string, string>();
  for (const message of messages) if (message.parentId) newestChild.set(message.parentId, message.messageId);
  let leaf = messageId;
  // Bounded by the number of messages: each step goes one message deeper.
  for (let step = 0; step < messages.length; step++) {
    const child = newestChild.get(leaf);
    if (child === undefined) break;
    leaf = child;
  }
  return leaf;
}

/** The active leaf: the stored current message when it exists, else the newest message. */
export function activeLeaf(
  messages: readonly StoredMessage[],
  currentMessageId: string | undefined,
): StoredMessage | undefined {
  return (
    (currentMessageId === undefined
      ? undefined
      : messages.find((message) => message.messageId === currentMessageId)) ?? messages.at(-1)
  );
}

/**
 * The path from the root to `leafId`, oldest first. `complete` is false when it reaches a parent that is not
 * among `messages` (a long conversation read only in part).
 */
export function pathTo(
  messages: readonly StoredMessage[],
  leafId: string | undefined,
): { readonly path: StoredMessage[]; readonly complete: boolean } {
  const byId = new Map(messages.map((message) => [message.messageId, message]));
  const path: StoredMessage[] = [];
  let next = leafId === undefined ? undefined : byId.get(leafId);
  while (next && path.length < messages.length) {
    path.push(next);
    next = next.parentId ? byId.get(next.parentId) : undefined;
  }
  const root = path.at(-1);
  return { path: path.reverse(), complete: root === undefined || !root.parentId };
}
