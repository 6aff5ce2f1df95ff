import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { QuotaDeps } from './index';

/**
 * A bounded set of slots in one item (a DynamoDB string set): taking one is a conditional `ADD` on the set's size,
 * so concurrent takers can never exceed the limit. Each slot names its own expiry (`<epoch ms>#<id>`): a holder
 * that died without freeing its slot (a Lambda killed mid-turn) stops counting once that time has passed.
 */
type SlotKey = { readonly pk: string; readonly sk: string };

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

async function add(deps: QuotaDeps, key: SlotKey, slot: string, limit: number): Promise<boolean> {
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: key,
        UpdateExpression: 'ADD slots :slot',
        ConditionExpression: 'attribute_not_exists(slots) OR size(slots) < :limit',
        ExpressionAttributeValues: { ':slot': new Set([slot]), ':limit': limit },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Takes a slot until `expiresAtMs`; `undefined` when `limit` live slots are taken. */
export async function takeSlot(
  deps: QuotaDeps,
  key: SlotKey,
  id: string,
  expiresAtMs: number,
  limit: number,
): Promise<string | undefined> {
  const slot = `${Math.ceil(expiresAtMs)}#${id}`;
  if (await add(deps, key, slot, limit)) return slot;
  // Full: free the slots whose holders are past their expiry, then try once more.
  const current = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: key, ConsistentRead: true }),
  );
  const held = current.Item?.slots instanceof Set ? [...(current.Item.slots as Set<string>)] : [];
  const now = (deps.now ? deps.now() : new Date()).getTime();
  const expired = held.filter((entry) => Number(entry.split('#', 1)[0]) <= now);
  if (expired.length === 0) return undefined;
  await freeSlots(deps, key, expired);
  return (await add(deps, key, slot, limit)) ? slot : undefined;
}

async function freeSlots(deps: QuotaDeps, key: SlotKey, slots: readonly string[]): Promise<void> {
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: key,
      UpdateExpression: 'DELETE slots :slots',
      ExpressionAttributeValues: { ':slots': new Set(slots) },
    }),
  );
}

/** Frees a slot taken by `takeSlot` (idempotent). */
export function freeSlot(deps: QuotaDeps, key: SlotKey, slot: string): Promise<void> {
  return freeSlots(deps, key, [slot]);
}
