import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../contracts/table';

/**
 * Fixed-window counters that cannot double across the global table's regions: each region adds only to its own
 * item (`<sk>@<region>`), and a count is the sum over every region's item. The limit check is one conditional `ADD`
 * on the region's own item against what the other regions have used, so concurrent requests in one region never
 * pass it, and requests in two regions at once can pass it by at most what replication has not yet carried over
 * (typically under a second's worth) — instead of each region granting the whole limit, as one shared item whose
 * last writer wins would. Chosen over a home region per user: no request waits on, or fails with, another region.
 */
export interface RegionalCounterDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  /** The region this function runs in. */
  readonly region: string;
  /** Every region that writes the table (the global table's replicas); this one when empty. */
  readonly regions: readonly string[];
}

type Key = { readonly pk: string; readonly sk: string };

const regionalKey = (key: Key, region: string): Key => ({ pk: key.pk, sk: `${key.sk}@${region}` });

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

async function usedIn(
  deps: RegionalCounterDeps,
  key: Key,
  attribute: string,
  region: string,
): Promise<number> {
  const output = await deps.db.send(
    new GetCommand({
      TableName: deps.tableName,
      Key: regionalKey(key, region),
      ProjectionExpression: '#count',
      ExpressionAttributeNames: { '#count': attribute },
    }),
  );
  const value = output.Item?.[attribute];
  return typeof value === 'number' ? value : 0;
}

function otherRegions(deps: RegionalCounterDeps): string[] {
  return deps.regions.filter((region) => region !== deps.region);
}

async function sumOf(values: Promise<number>[]): Promise<number> {
  return (await Promise.all(values)).reduce((total, value) => total + value, 0);
}

/** What every region together has counted on `key`. */
export function regionalTotal(deps: RegionalCounterDeps, key: Key, attribute: string): Promise<number> {
  const regions = [deps.region, ...otherRegions(deps)];
  return sumOf(regions.map((region) => usedIn(deps, key, attribute, region)));
}

/**
 * Counts one on this region's item when every region's total stays within `limit`; `ok: false` (nothing counted)
 * when the window is full. `used` is the total after the count.
 */
export async function countWithinLimit(
  deps: RegionalCounterDeps,
  key: Key,
  attribute: string,
  limit: number,
  expiresAtSeconds: number,
): Promise<{ ok: boolean; used: number }> {
  const counted = await addWithinLimit(deps, key, attribute, 1, limit, expiresAtSeconds);
  return counted.ok ? counted : { ok: false, used: limit };
}

/**
 * Adds `amount` on this region's item when every region's total stays within `limit` afterwards; `ok: false`
 * (nothing added) otherwise, with `used` the total as last read. `used` is the total after the addition.
 */
export async function addWithinLimit(
  deps: RegionalCounterDeps,
  key: Key,
  attribute: string,
  amount: number,
  limit: number,
  expiresAtSeconds: number,
): Promise<{ ok: boolean; used: number }> {
  const elsewhere = await sumOf(otherRegions(deps).map((region) => usedIn(deps, key, attribute, region)));
  const ownCeiling = limit - elsewhere - amount;
  if (ownCeiling < 0) {
    const own = await usedIn(deps, key, attribute, deps.region);
    return { ok: false, used: Math.min(limit, elsewhere + own) };
  }
  try {
    const result = await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: regionalKey(key, deps.region),
        UpdateExpression: 'ADD #count :amount SET #ttl = if_not_exists(#ttl, :ttl)',
        ConditionExpression: 'attribute_not_exists(#count) OR #count <= :ceiling',
        ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute, '#count': attribute },
        ExpressionAttributeValues: { ':amount': amount, ':ceiling': ownCeiling, ':ttl': expiresAtSeconds },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const own = result.Attributes?.[attribute];
    return { ok: true, used: elsewhere + (typeof own === 'number' ? own : amount) };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const own = await usedIn(deps, key, attribute, deps.region);
    return { ok: false, used: Math.min(limit, elsewhere + own) };
  }
}

/** Adds `amount` (negative to give back) on this region's item, unconditionally. */
export async function addInRegion(
  deps: RegionalCounterDeps,
  key: Key,
  attribute: string,
  amount: number,
  expiresAtSeconds: number,
): Promise<void> {
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: regionalKey(key, deps.region),
      UpdateExpression: 'ADD #count :amount SET #ttl = if_not_exists(#ttl, :ttl)',
      ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute, '#count': attribute },
      ExpressionAttributeValues: { ':amount': amount, ':ttl': expiresAtSeconds },
    }),
  );
}
