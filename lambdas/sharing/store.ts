import { randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import type { Share, SharedConversation } from '../contracts/sharing';
import { activeLeaf, pathTo, withParents } from '../conversations/branches';
import {
  allMessages,
  type ConversationStore,
  getConversation,
  itemsWithPrefix,
  requireConversation,
  type StoredMessage,
} from '../conversations/store';
import { NotFoundError } from '../shared/errors';

/**
 * Read-only share links. A conversation has at most one: the owner's `SHARE#<conversation>` item and a public
 * `SHARED#<share id>` item outside every partition that names the snapshot — the owner, the conversation and the
 * leaf of the active branch when it was shared. Stored messages never change once finished and branches only
 * add siblings, so the path from the root to that leaf is the snapshot: later messages are not on it. Sharing
 * again keeps the link and moves its snapshot to the active branch of that moment; revoking deletes both items.
 */
export interface ShareRecord {
  readonly shareId: string;
  readonly conversationId: string;
  readonly leafMessageId: string | null;
  readonly messageCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** 128 random bits, base64url: `shr_` + 22 characters. */
export function newShareId(): string {
  return `shr_${randomBytes(16).toString('base64url')}`;
}

/** The public page of a share: the web app's origin (the first allowed one) + `/s/<id>`. */
export function shareUrl(webOrigins: string, shareId: string): string {
  const origin = webOrigins.split(',')[0]?.trim() ?? '';
  return `${origin === '*' ? '' : origin.replace(/\/$/, '')}/s/${shareId}`;
}

export function shareView(record: ShareRecord, webOrigins: string): Share {
  return {
    id: record.shareId,
    object: 'conversation.share',
    conversation_id: record.conversationId,
    url: shareUrl(webOrigins, record.shareId),
    message_count: record.messageCount,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

/** A stored `SHARE#` item as a record (undefined for anything else). */
export function shareRecordOf(item: Record<string, unknown> | undefined): ShareRecord | undefined {
  if (!item || typeof item.shareId !== 'string') return undefined;
  return {
    shareId: item.shareId,
    conversationId: String(item.conversationId),
    leafMessageId: typeof item.leafMessageId === 'string' ? item.leafMessageId : null,
    messageCount: Number(item.messageCount ?? 0),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
  };
}

/** What a snapshot shows of a branch: the questions and answers, not system, developer or tool messages. */
function shownMessages(path: readonly StoredMessage[]): StoredMessage[] {
  return path.filter(
    (message) => (message.role === 'user' || message.role === 'assistant') && message.content.trim() !== '',
  );
}

/** The branch a snapshot taken now shows: up to the active leaf, without an answer still being generated. */
function snapshotLeaf(messages: readonly StoredMessage[], currentMessageId: string | undefined) {
  const byId = new Map(messages.map((message) => [message.messageId, message]));
  let leaf = activeLeaf(messages, currentMessageId);
  for (let step = 0; leaf?.status === 'generating' && step < messages.length; step++) {
    leaf = leaf.parentId ? byId.get(leaf.parentId) : undefined;
  }
  return leaf;
}

export async function getShare(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
): Promise<ShareRecord | undefined> {
  const result = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: keys.share(sub, conversationId), ConsistentRead: true }),
  );
  return shareRecordOf(result.Item);
}

/** Shares the active branch of the caller's conversation as it is now (again: same link, new snapshot). */
export async function shareConversation(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
): Promise<ShareRecord> {
  const conversation = await requireConversation(deps, sub, conversationId);
  const messages = withParents(await allMessages(deps, sub, conversationId));
  const leaf = snapshotLeaf(messages, conversation.currentMessageId);
  const shown = shownMessages(pathTo(messages, leaf?.messageId).path);
  const existing = await getShare(deps, sub, conversationId);
  const now = (deps.now ? deps.now() : new Date()).toISOString();
  const record: ShareRecord = {
    shareId: existing?.shareId ?? newShareId(),
    conversationId,
    leafMessageId: leaf?.messageId ?? null,
    messageCount: shown.length,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  // The owner's item first: if the public write then fails, the owner sees a link that answers 404 until they
  // share again (same id) — never a live public link the owner cannot see or revoke.
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: { ...keys.share(sub, conversationId), type: 'share', ...record },
    }),
  );
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: {
        ...keys.sharedSnapshot(record.shareId),
        type: 'shared',
        owner: sub,
        conversationId,
        leafMessageId: record.leafMessageId,
        title: conversation.title,
        sharedAt: now,
      },
    }),
  );
  return record;
}

/** Revokes the caller's share of a conversation: its link answers 404 from then on. */
export async function revokeShare(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
): Promise<void> {
  const share = await getShare(deps, sub, conversationId);
  if (!share) throw new NotFoundError('Share', 'id');
  await deleteShare(deps, sub, share);
}

async function deleteShare(deps: ConversationStore, sub: string, share: ShareRecord): Promise<void> {
  await deps.db.send(
    new DeleteCommand({ TableName: deps.tableName, Key: keys.sharedSnapshot(share.shareId) }),
  );
  await deps.db.send(
    new DeleteCommand({ TableName: deps.tableName, Key: keys.share(sub, share.conversationId) }),
  );
}

/** Revokes a conversation's share if it has one (the conversation is being deleted). */
export async function revokeShareIfAny(deps: ConversationStore, sub: string, conversationId: string) {
  const share = await getShare(deps, sub, conversationId);
  if (share) await deleteShare(deps, sub, share);
}

/** Every share of the user, for the export and for erasure (which revokes them). */
export async function sharesOf(deps: ConversationStore, sub: string): Promise<ShareRecord[]> {
  const items = await itemsWithPrefix(deps, sub, keys.sharePrefix);
  return items.flatMap((item) => shareRecordOf(item) ?? []);
}

/** Erasure: every public snapshot of the user goes first, then their `SHARE#` items with the other user data. */
export async function revokeAllShares(deps: ConversationStore, sub: string): Promise<number> {
  const shares = await sharesOf(deps, sub);
  for (const share of shares) await deleteShare(deps, sub, share);
  return shares.length;
}

/**
 * The public view of a share: the title and the branch's questions and answers as they were when shared —
 * no user, conversation or message ids. A revoked share, or one whose conversation is gone, is a 404.
 */
export async function sharedConversation(
  deps: ConversationStore,
  shareId: string,
): Promise<SharedConversation> {
  const result = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: keys.sharedSnapshot(shareId), ConsistentRead: true }),
  );
  const item = result.Item;
  if (!item || typeof item.owner !== 'string' || typeof item.conversationId !== 'string')
    throw new NotFoundError('Shared conversation', 'share_id');
  const conversation = await getConversation(deps, item.owner, item.conversationId);
  if (!conversation) throw new NotFoundError('Shared conversation', 'share_id');
  const leafId = typeof item.leafMessageId === 'string' ? item.leafMessageId : undefined;
  const messages =
    leafId === undefined ? [] : withParents(await allMessages(deps, item.owner, item.conversationId));
  return {
    id: shareId,
    object: 'shared_conversation',
    title: String(item.title ?? conversation.title),
    shared_at: String(item.sharedAt),
    messages: shownMessages(pathTo(messages, leafId).path).map((message) => ({
      role: message.role as 'user' | 'assistant',
      content: message.content,
      model: message.model ?? null,
      created_at: message.createdAt,
    })),
  };
}
