import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { FinishReason, MessageStatus, ToolCall, Usage } from '../contracts/api';
import type { Citation } from '../contracts/files';
import { keys } from '../contracts/keys';
import { TABLE } from '../contracts/table';
import { refuseWritesAfterErasure } from '../shared/erase-marker';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { settleAbandoned } from './abandoned';

/** What the context store needs: the table, its client and the retention setting. */
export interface ConversationStore {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Days messages and conversations are kept; 0 keeps them forever. */
  readonly retentionDays: number;
  readonly now?: () => Date;
}

export type StoredRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface ConversationRecord {
  readonly conversationId: string;
  readonly title: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Optimistic-concurrency version: every change is a conditional write on the version read. */
  readonly version: number;
  /** Sequence numbers handed out so far (the next message's sequence). */
  readonly messageCount: number;
  /** User turns stored so far. */
  readonly turnCount: number;
  readonly systemPrompt?: string;
  /** Files attached with `file_ids` (a string set, added to by `chat/grounding.ts`). */
  readonly fileIds?: readonly string[];
  /** The leaf of the active branch (the answer of its latest turn); the newest message when unset or missing. */
  readonly currentMessageId?: string;
}

export interface StoredMessage {
  readonly messageId: string;
  readonly conversationId: string;
  readonly sequence: number;
  readonly role: StoredRole;
  readonly content: string;
  /** The message this one follows (its branch); `null` on a root, unset on messages stored before branches. */
  readonly parentId?: string | null;
  readonly createdAt: string;
  readonly status: MessageStatus;
  readonly model?: string;
  readonly usage?: Usage;
  readonly finishReason?: FinishReason;
  /** Moderation decision: action and categories, never the text that triggered it. */
  readonly moderation?: { readonly action: string; readonly categories: readonly string[] };
  readonly latencyMs?: number;
  readonly timeToFirstTokenMs?: number;
  readonly requestId?: string;
  /** An answer grounded in attached files: the passages it was given. */
  readonly citations?: readonly Citation[];
  /** A resumable answer's text in the pieces it was stored in: what a re-attached stream replays. */
  readonly chunks?: readonly string[];
  /** Writes the answer cost while it was generated (resumable answers). */
  readonly progressWrites?: number;
  /** Set by an explicit stop; the generating process checks it at each progress write. */
  readonly stopRequested?: boolean;
  /** An assistant message that called tools (OpenAI's shape: id, type, function name and JSON arguments). */
  readonly toolCalls?: readonly ToolCall[];
  /** A `tool` message: the id of the call it answers. */
  readonly toolCallId?: string;
  /** The model's reasoning, kept apart from the answer. */
  readonly reasoning?: string;
}

const MAX_CONFLICT_RETRIES = 8;

/** A short random pause before retrying a lost race, so racing writers spread out. */
function conflictBackoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));
}

const nowOf = (deps: ConversationStore) => (deps.now ? deps.now() : new Date());

/** Epoch seconds at which an item written now expires, or undefined when retention is off. */
export function expiresAtFor(deps: ConversationStore): number | undefined {
  if (deps.retentionDays <= 0) return undefined;
  return Math.floor(nowOf(deps).getTime() / 1000) + deps.retentionDays * 86_400;
}

function isExpired(item: Record<string, unknown>, deps: ConversationStore): boolean {
  const expiresAt = item[TABLE.ttlAttribute];
  return typeof expiresAt === 'number' && expiresAt <= Math.floor(nowOf(deps).getTime() / 1000);
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function toConversation(item: Record<string, unknown>): ConversationRecord {
  return {
    conversationId: String(item.conversationId),
    title: String(item.title ?? ''),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    version: Number(item.version ?? 0),
    messageCount: Number(item.messageCount ?? 0),
    turnCount: Number(item.turnCount ?? 0),
    ...(typeof item.systemPrompt === 'string' ? { systemPrompt: item.systemPrompt } : {}),
    ...(item.fileIds instanceof Set ? { fileIds: [...(item.fileIds as Set<string>)].sort() } : {}),
    ...(typeof item.currentMessageId === 'string' ? { currentMessageId: item.currentMessageId } : {}),
  };
}

function toMessage(item: Record<string, unknown>): StoredMessage {
  const { pk: _pk, sk: _sk, type: _type, expiresAt: _expiresAt, ...rest } = item;
  return rest as unknown as StoredMessage;
}

/** A message item as readers see it (an answer whose generation is over reads as it ended: see `abandoned.ts`). */
export function readMessage(deps: ConversationStore, item: Record<string, unknown>): StoredMessage {
  return settleAbandoned(toMessage(item), nowOf(deps).getTime());
}

/** A short title from the first user message (an async job may refine it later). */
export function titleFrom(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return 'New conversation';
  return line.length <= 60 ? line : `${line.slice(0, 57).trimEnd()}…`;
}

export function newConversationId(): string {
  return `conv_${crypto.randomUUID().replaceAll('-', '')}`;
}

export function newMessageId(): string {
  return `msg_${crypto.randomUUID().replaceAll('-', '')}`;
}

/** Creates an empty conversation owned by `sub`. */
export async function createConversation(
  deps: ConversationStore,
  sub: string,
  init: {
    readonly conversationId?: string;
    readonly title: string;
    readonly systemPrompt?: string;
    /** Sequence numbers (and user turns) taken by the creating request: saves it a reservation round trip. */
    readonly reserve?: { readonly count: number; readonly userTurns: number };
    /** The creating turn's answer: the active branch's leaf from the start. */
    readonly currentMessageId?: string;
  },
): Promise<ConversationRecord> {
  const now = nowOf(deps).toISOString();
  const conversationId = init.conversationId ?? newConversationId();
  const record: ConversationRecord = {
    conversationId,
    title: init.title,
    createdAt: now,
    updatedAt: now,
    version: init.reserve ? 1 : 0,
    messageCount: init.reserve?.count ?? 0,
    turnCount: init.reserve?.userTurns ?? 0,
    ...(init.systemPrompt === undefined ? {} : { systemPrompt: init.systemPrompt }),
    ...(init.currentMessageId === undefined ? {} : { currentMessageId: init.currentMessageId }),
  };
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: {
        ...keys.conversation(sub, conversationId),
        gsi1pk: keys.conversationsIndex(sub),
        gsi1sk: `${now}#${conversationId}`,
        type: 'conversation',
        ...record,
        [TABLE.ttlAttribute]: expiresAtFor(deps),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return record;
}

/** The caller's conversation, or undefined (someone else's id looks exactly like a missing one). */
export async function getConversation(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
): Promise<ConversationRecord | undefined> {
  const result = await deps.db.send(
    new GetCommand({
      TableName: deps.tableName,
      Key: keys.conversation(sub, conversationId),
      ConsistentRead: true,
    }),
  );
  if (!result.Item || isExpired(result.Item, deps)) return undefined;
  return toConversation(result.Item);
}

export async function requireConversation(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
): Promise<ConversationRecord> {
  const conversation = await getConversation(deps, sub, conversationId);
  if (!conversation) throw new NotFoundError('Conversation', 'conversation_id');
  return conversation;
}

/**
 * Reserves `count` consecutive message sequence numbers with a conditional write on the version read.
 * Two concurrent requests on one conversation both get their own range, in order; the loser of a race
 * re-reads and retries, so nothing is ever overwritten. (No transactions: global tables make them
 * region-local and the local emulator lacks them.)
 */
export async function reserveSequences(
  deps: ConversationStore,
  sub: string,
  conversation: ConversationRecord,
  count: number,
  userTurns: number,
  /** The turn's answer, which becomes the active branch's leaf. */
  currentMessageId?: string,
): Promise<{ readonly firstSequence: number; readonly conversation: ConversationRecord }> {
  let current = conversation;
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const now = nowOf(deps).toISOString();
    const expiresAt = expiresAtFor(deps);
    try {
      const result = await deps.db.send(
        new UpdateCommand({
          TableName: deps.tableName,
          Key: keys.conversation(sub, current.conversationId),
          UpdateExpression: `SET version = :next, messageCount = :count, turnCount = :turns, updatedAt = :now, gsi1sk = :gsi1sk${currentMessageId === undefined ? '' : ', currentMessageId = :leaf'}${expiresAt === undefined ? '' : ', #ttl = :ttl'}`,
          ConditionExpression: 'attribute_exists(pk) AND version = :version',
          ...(expiresAt === undefined ? {} : { ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute } }),
          ExpressionAttributeValues: {
            ':version': current.version,
            ':next': current.version + 1,
            ':count': current.messageCount + count,
            ':turns': current.turnCount + userTurns,
            ':now': now,
            ':gsi1sk': `${now}#${current.conversationId}`,
            ...(currentMessageId === undefined ? {} : { ':leaf': currentMessageId }),
            ...(expiresAt === undefined ? {} : { ':ttl': expiresAt }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return {
        firstSequence: current.messageCount,
        conversation: result.Attributes ? toConversation(result.Attributes) : current,
      };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      await conflictBackoff(attempt);
      current = await requireConversation(deps, sub, current.conversationId);
    }
  }
  throw new ConflictError(
    'The conversation is being changed by another request; please retry.',
    'conversation_busy',
  );
}

/** When the turn that wrote `message` began: an answer is stamped when it is written, `latencyMs` after that. */
function turnStartOf(message: StoredMessage): number {
  return Date.parse(message.createdAt) - (message.latencyMs ?? 0);
}

/** The item of one message: its key, its attributes and its expiry. */
function messageItem(deps: ConversationStore, sub: string, message: StoredMessage) {
  return {
    ...keys.message(sub, message.conversationId, message.sequence),
    type: 'message',
    ...message,
    [TABLE.ttlAttribute]: expiresAtFor(deps),
  };
}

/** Puts one message item under a write condition. */
async function putMessageItem(
  deps: ConversationStore,
  sub: string,
  message: StoredMessage,
  condition: Pick<
    PutCommandInput,
    'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  >,
): Promise<void> {
  await refuseWritesAfterErasure(deps, sub, turnStartOf(message));
  await deps.db.send(
    new PutCommand({ TableName: deps.tableName, Item: messageItem(deps, sub, message), ...condition }),
  );
}

/**
 * Writes the answer of a resumed turn at its reserved sequence: over nothing, or over the unfinished answer an
 * earlier attempt left there (`interrupted`), never over a finished one.
 */
export function putAnswerOverUnfinished(
  deps: ConversationStore,
  sub: string,
  message: StoredMessage,
): Promise<void> {
  return putMessageItem(deps, sub, message, {
    ConditionExpression: 'attribute_not_exists(pk) OR (#role = :assistant AND #status = :interrupted)',
    ExpressionAttributeNames: { '#role': 'role', '#status': 'status' },
    ExpressionAttributeValues: { ':assistant': 'assistant', ':interrupted': 'interrupted' },
  });
}

/** Writes a resumable answer's final state over its `generating` record (or over nothing). */
export function putAnswerOverGenerating(
  deps: ConversationStore,
  sub: string,
  message: StoredMessage,
): Promise<void> {
  return putMessageItem(deps, sub, message, {
    ConditionExpression: 'attribute_not_exists(pk) OR #status = :generating',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':generating': 'generating' },
  });
}

/**
 * One progress step of a `generating` answer: its text so far and the new piece. Returns whether a stop was
 * requested (or the answer is no longer generating), so the generating process can end it.
 */
export async function appendAnswerProgress(
  deps: ConversationStore,
  sub: string,
  at: { readonly conversationId: string; readonly sequence: number },
  progress: { readonly content: string; readonly chunk: string | undefined },
): Promise<{ readonly stopRequested: boolean }> {
  try {
    const result = await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.message(sub, at.conversationId, at.sequence),
        UpdateExpression: `SET content = :content, progressWrites = progressWrites + :one${progress.chunk === undefined ? '' : ', chunks = list_append(chunks, :chunk)'}`,
        ConditionExpression: '#status = :generating',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':content': progress.content,
          ':one': 1,
          ':generating': 'generating',
          ...(progress.chunk === undefined ? {} : { ':chunk': [progress.chunk] }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { stopRequested: result.Attributes?.stopRequested === true };
  } catch (error) {
    if (isConditionFailure(error)) return { stopRequested: true };
    throw error;
  }
}

/** The message stored at `sequence`, or undefined. */
export async function getMessageAt(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
  sequence: number,
): Promise<StoredMessage | undefined> {
  const result = await deps.db.send(
    new GetCommand({
      TableName: deps.tableName,
      Key: keys.message(sub, conversationId, sequence),
      ConsistentRead: true,
    }),
  );
  return result.Item && !isExpired(result.Item, deps) ? readMessage(deps, result.Item) : undefined;
}

/** Sets attributes of an answer while it is `generating`; false when it is not (finished already). */
async function updateWhileGenerating(
  deps: ConversationStore,
  sub: string,
  message: Pick<StoredMessage, 'conversationId' | 'sequence'>,
  set: string,
  values: Record<string, unknown>,
): Promise<boolean> {
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.message(sub, message.conversationId, message.sequence),
        UpdateExpression: `SET ${set}`,
        ConditionExpression: '#status = :generating',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...values, ':generating': 'generating' },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Asks a `generating` answer to stop; false when it is not generating (finished already). */
export function requestStop(
  deps: ConversationStore,
  sub: string,
  message: Pick<StoredMessage, 'conversationId' | 'sequence'>,
): Promise<boolean> {
  return updateWhileGenerating(deps, sub, message, 'stopRequested = :yes', { ':yes': true });
}

/**
 * Ends a `generating` answer as `interrupted`, keeping the text its progress steps stored: what is left when its
 * final write cannot be made (a write small enough to succeed where the whole answer failed). False when it is
 * not generating any more.
 */
export function endAsInterrupted(
  deps: ConversationStore,
  sub: string,
  message: Pick<StoredMessage, 'conversationId' | 'sequence'>,
): Promise<boolean> {
  return updateWhileGenerating(deps, sub, message, '#status = :interrupted', {
    ':interrupted': 'interrupted',
  });
}

/** Writes one message at its reserved sequence; never overwrites an existing item. */
export function putMessage(deps: ConversationStore, sub: string, message: StoredMessage): Promise<void> {
  return putMessageItem(deps, sub, message, { ConditionExpression: 'attribute_not_exists(pk)' });
}

async function queryAll(deps: ConversationStore, input: QueryCommandInput, limit?: number) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.db.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) if (!isExpired(item, deps)) items.push(item);
    start = page.LastEvaluatedKey;
  } while (start && (limit === undefined || items.length < limit));
  return limit === undefined ? items : items.slice(0, limit);
}

/** The newest `limit` messages of a conversation, oldest first. */
export async function recentMessages(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
  limit: number,
): Promise<StoredMessage[]> {
  const items = await queryAll(
    deps,
    {
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': keys.userPartition(sub),
        ':prefix': keys.messagePrefix(conversationId),
      },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
    },
    limit,
  );
  return items.map((item) => readMessage(deps, item)).reverse();
}

/** Every message of a conversation, oldest first. */
export async function allMessages(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
): Promise<StoredMessage[]> {
  const items = await queryAll(deps, {
    TableName: deps.tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: {
      ':pk': keys.userPartition(sub),
      ':prefix': keys.messagePrefix(conversationId),
    },
    ConsistentRead: true,
  });
  return items.map((item) => readMessage(deps, item));
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, sub: string): Record<string, unknown> {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      typeof key === 'object' &&
      key !== null &&
      (key as Record<string, unknown>).gsi1pk === keys.conversationsIndex(sub) &&
      (key as Record<string, unknown>).pk === keys.userPartition(sub) &&
      typeof (key as Record<string, unknown>).gsi1sk === 'string' &&
      typeof (key as Record<string, unknown>).sk === 'string'
    ) {
      return key as Record<string, unknown>;
    }
  } catch {
    // fall through: any undecodable cursor is the same client error
  }
  throw new ValidationError('Invalid cursor.', 'cursor', 'invalid_cursor');
}

/** The caller's conversations, newest first, one page at a time (opaque cursor). */
export async function listConversations(
  deps: ConversationStore,
  sub: string,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<{ readonly conversations: ConversationRecord[]; readonly nextCursor: string | null }> {
  const conversations: ConversationRecord[] = [];
  let start = page.cursor === undefined ? undefined : decodeCursor(page.cursor, sub);
  let last: Record<string, unknown> | undefined;
  do {
    const result = await deps.db.send(
      new QueryCommand({
        TableName: deps.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.conversationsIndex(sub) },
        ScanIndexForward: false,
        Limit: page.limit - conversations.length,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of result.Items ?? []) {
      if (isExpired(item, deps)) continue;
      conversations.push(toConversation(item));
      last = item;
    }
    start = result.LastEvaluatedKey;
  } while (start && conversations.length < page.limit);
  const nextCursor =
    start && last
      ? encodeCursor({ pk: last.pk, sk: last.sk, gsi1pk: last.gsi1pk, gsi1sk: last.gsi1sk })
      : null;
  return { conversations, nextCursor };
}

/** What a PATCH may change: the title and the active branch. */
export interface ConversationChange {
  readonly title?: string | undefined;
  readonly currentMessageId?: string | undefined;
}

/** Renames a conversation and/or switches its branch (conditional on the version read; retried on a concurrent change). */
export async function updateConversation(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
  change: ConversationChange,
): Promise<ConversationRecord> {
  const sets = [
    ...(change.title === undefined ? [] : ['title = :title']),
    ...(change.currentMessageId === undefined ? [] : ['currentMessageId = :leaf']),
  ];
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const current = await requireConversation(deps, sub, conversationId);
    try {
      const result = await deps.db.send(
        new UpdateCommand({
          TableName: deps.tableName,
          Key: keys.conversation(sub, conversationId),
          UpdateExpression: `SET ${[...sets, 'version = :next'].join(', ')}`,
          ConditionExpression: 'attribute_exists(pk) AND version = :version',
          ExpressionAttributeValues: {
            ...(change.title === undefined ? {} : { ':title': change.title }),
            ...(change.currentMessageId === undefined ? {} : { ':leaf': change.currentMessageId }),
            ':version': current.version,
            ':next': current.version + 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toConversation(result.Attributes) : current;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      await conflictBackoff(attempt);
    }
  }
  throw new ConflictError(
    'The conversation is being changed by another request; please retry.',
    'conversation_busy',
  );
}

/** Deletes items in batches of 25, resubmitting what DynamoDB leaves unprocessed. */
export async function deleteKeys(
  deps: ConversationStore,
  itemKeys: readonly Record<string, unknown>[],
): Promise<void> {
  for (let index = 0; index < itemKeys.length; index += 25) {
    let requests = itemKeys.slice(index, index + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      if (attempt > 8) throw new Error('DynamoDB kept items unprocessed while deleting.');
      const result = await deps.db.send(
        new BatchWriteCommand({ RequestItems: { [deps.tableName]: requests } }),
      );
      requests = (result.UnprocessedItems?.[deps.tableName] ?? []).flatMap((request) =>
        request.DeleteRequest?.Key ? [{ DeleteRequest: { Key: request.DeleteRequest.Key } }] : [],
      );
    }
  }
}

/** Deletes a conversation and its messages; someone else's (or a missing) id is a 404. */
export async function deleteConversation(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
): Promise<void> {
  await requireConversation(deps, sub, conversationId);
  const messages = await queryAll(deps, {
    TableName: deps.tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: {
      ':pk': keys.userPartition(sub),
      ':prefix': keys.messagePrefix(conversationId),
    },
    ProjectionExpression: 'pk, sk',
  });
  // Messages first: a failure half-way leaves a conversation that can be deleted again, never orphans.
  await deleteKeys(
    deps,
    messages.map((item) => ({ pk: item.pk, sk: item.sk })),
  );
  await deps.db.send(
    new DeleteCommand({ TableName: deps.tableName, Key: keys.conversation(sub, conversationId) }),
  );
}

/** Every item in the caller's partition (export and erasure), expired ones included when asked. */
export async function partitionItems(
  deps: ConversationStore,
  sub: string,
  options: { readonly projection?: string } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.db.send(
      new QueryCommand({
        TableName: deps.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.userPartition(sub) },
        ProjectionExpression: options.projection,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The caller's usage aggregates (`keys.usage`) from `fromDay` (YYYY-MM-DD) on, oldest first. */
export async function usageItems(
  deps: ConversationStore,
  sub: string,
  fromDay: string,
): Promise<Record<string, unknown>[]> {
  return queryAll(deps, {
    TableName: deps.tableName,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: {
      ':pk': keys.userPartition(sub),
      ':from': keys.usage(sub, fromDay).sk,
      ':to': keys.usage(sub, '9999-12-31').sk,
    },
  });
}

export { isExpired, toConversation, toMessage };
