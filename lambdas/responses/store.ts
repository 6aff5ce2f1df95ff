import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ExportedResponse } from '../contracts/api';
import { keys } from '../contracts/keys';
import type { ResponseItem } from '../contracts/responses';
import { TABLE } from '../contracts/table';
import { type ConversationStore, expiresAtFor, isExpired } from '../conversations/store';
import { isConditionFailure } from '../shared/conditional-write';
import { refuseWritesAfterErasure } from '../shared/erase-marker';
import { NotFoundError } from '../shared/errors';

/**
 * Stored responses (`RESP#<id>` in the caller's partition). A response is a chat turn: its answer is the
 * conversation's message at `sequence`, so the text, tool calls, status and usage are read from there; this item
 * keeps what only the Responses API knows — the request's settings as echoed in the `response` object, its input
 * items (for `input_items`), the previous response it continued, and a cancel request.
 */

/** The request's settings as the `response` object echoes them. */
export interface ResponseSettings {
  readonly model: string;
  readonly instructions: string | null;
  readonly tools: readonly Record<string, unknown>[];
  readonly toolChoice: string | Record<string, unknown>;
  readonly textFormat: Record<string, unknown>;
  readonly temperature: number | null;
  readonly topP: number | null;
  readonly maxOutputTokens: number | null;
  readonly parallelToolCalls: boolean;
  readonly metadata: Record<string, string>;
  readonly reasoningEffort: string | null;
  readonly user: string | null;
  readonly background: boolean;
  readonly store: boolean;
  readonly previousResponseId: string | null;
}

export interface StoredResponse {
  readonly responseId: string;
  /** Epoch seconds. */
  readonly createdAt: number;
  readonly settings: ResponseSettings;
  readonly inputItems: readonly ResponseItem[];
  /** Where the answer goes, once the turn has its place (a background response is stored before). */
  readonly conversationId?: string;
  readonly sequence?: number;
  /** The region whose process writes the answer (part of the message's key). */
  readonly region?: string;
  /** The turn failed before its answer started (background): the error the response reports. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly cancelRequested?: boolean;
}

export function newResponseId(): string {
  return `resp_${crypto.randomUUID().replaceAll('-', '')}`;
}

/** Writes a new response record (never over an existing one); refused after an erasure that began later. */
export async function putResponse(
  deps: ConversationStore,
  sub: string,
  response: StoredResponse,
  startedAtMs: number,
): Promise<void> {
  await refuseWritesAfterErasure(deps, sub, startedAtMs);
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: {
        ...keys.response(sub, response.responseId),
        type: 'response',
        ...response,
        [TABLE.ttlAttribute]: expiresAtFor(deps),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

/** The caller's stored response; someone else's, a missing or an expired one is a 404 naming `param`. */
export async function requireResponse(
  deps: ConversationStore,
  sub: string,
  responseId: string,
  param = 'response_id',
): Promise<StoredResponse> {
  const result = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: keys.response(sub, responseId), ConsistentRead: true }),
  );
  if (!result.Item || isExpired(result.Item, deps)) throw new NotFoundError('Response', param);
  const { pk: _pk, sk: _sk, type: _type, expiresAt: _expiresAt, ...rest } = result.Item;
  return rest as unknown as StoredResponse;
}

/** Records that the turn failed before its answer began (a background response). */
export async function markResponseFailed(
  deps: ConversationStore,
  sub: string,
  responseId: string,
  error: { readonly code: string; readonly message: string },
): Promise<void> {
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: keys.response(sub, responseId),
      UpdateExpression: 'SET #error = :error',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#error': 'error' },
      ExpressionAttributeValues: { ':error': error },
    }),
  );
}

/** Records a cancel request; the answer's own stop flag is what stops its generation. */
export async function markCancelRequested(
  deps: ConversationStore,
  sub: string,
  responseId: string,
): Promise<void> {
  await deps.db
    .send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.response(sub, responseId),
        UpdateExpression: 'SET cancelRequested = :yes',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':yes': true },
      }),
    )
    .catch((error: unknown) => {
      // Deleted (or erased) since it was read: the same 404 as a missing one.
      if (isConditionFailure(error)) throw new NotFoundError('Response', 'response_id');
      throw error;
    });
}

/** Deletes a stored response (its answer stays in the conversation, like every chat turn). */
export async function deleteResponse(
  deps: ConversationStore,
  sub: string,
  responseId: string,
): Promise<void> {
  await deps.db.send(new DeleteCommand({ TableName: deps.tableName, Key: keys.response(sub, responseId) }));
}

/** A stored response item as the export shows it. */
export function exportedResponse(item: Record<string, unknown>): ExportedResponse {
  const response = item as unknown as StoredResponse;
  return {
    id: response.responseId,
    created_at: response.createdAt,
    conversation_id: response.conversationId ?? null,
    previous_response_id: response.settings.previousResponseId,
    instructions: response.settings.instructions,
    metadata: { ...response.settings.metadata },
    background: response.settings.background,
    input_items: response.inputItems.map((one) => ({ ...one })),
  };
}

/** Where an answer of a stored response is, by its output message id (for `item_reference` inputs). */
export interface ResponseItemPlace {
  readonly responseId: string;
  readonly conversationId: string;
  readonly sequence: number;
  /** The region that wrote the answer (part of the message's key). */
  readonly region?: string;
}

export async function putResponseItem(
  deps: ConversationStore,
  sub: string,
  itemId: string,
  place: ResponseItemPlace,
): Promise<void> {
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: { ...keys.responseItem(sub, itemId), ...place, [TABLE.ttlAttribute]: expiresAtFor(deps) },
    }),
  );
}

export async function findResponseItem(
  deps: ConversationStore,
  sub: string,
  itemId: string,
): Promise<ResponseItemPlace | undefined> {
  const result = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: keys.responseItem(sub, itemId), ConsistentRead: true }),
  );
  if (!result.Item || isExpired(result.Item, deps)) return undefined;
  const { responseId, conversationId, sequence, region } = result.Item;
  return {
    responseId: String(responseId),
    conversationId: String(conversationId),
    sequence: Number(sequence),
    ...(typeof region === 'string' ? { region } : {}),
  };
}

export async function deleteResponseItem(
  deps: ConversationStore,
  sub: string,
  itemId: string,
): Promise<void> {
  await deps.db.send(new DeleteCommand({ TableName: deps.tableName, Key: keys.responseItem(sub, itemId) }));
}
