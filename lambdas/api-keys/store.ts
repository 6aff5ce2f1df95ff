import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  API_KEY_LIMITS,
  type ApiKey,
  type ApiKeyCreateRequest,
  type CreatedApiKey,
  type ListedApiKey,
} from '../contracts/api-keys';
import { keys } from '../contracts/keys';
import type { Scope } from '../contracts/routes';
import { API_KEY_LAST_USED_ATTRIBUTE, TABLE } from '../contracts/table';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { generateApiKeySecret, hashApiKeySecret, visiblePrefix } from './secret';

/**
 * Personal API keys in the single table. One item per key lives in the owner's partition (erasure removes it
 * with the rest of their data); GSI2 finds it by the SHA-256 of its secret, which is all that is stored. The
 * per-user limit is a conditional `ADD` to a set of live key ids, so concurrent creates cannot pass it.
 */
export interface ApiKeyStoreDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now?: () => Date;
}

export interface ApiKeyItem {
  readonly pk: string;
  readonly sk: string;
  readonly entity: 'api_key';
  readonly keyId: string;
  readonly sub: string;
  readonly name: string;
  readonly prefix: string;
  readonly scopes: readonly Scope[];
  readonly createdAt: string;
  /** ISO instant the key stops working; null: never. (`expiresAt` is the table's TTL attribute.) */
  readonly keyExpiresAt: string | null;
  readonly lastUsedAt?: string;
  readonly revokedAt?: string;
  readonly gsi2pk: string;
  readonly gsi2sk: string;
  /** TTL (epoch seconds): a revoked or expired key is kept 30 days, so refusals can say why, then removed. */
  readonly expiresAt?: number;
}

/** How long a revoked or expired key's item stays, so the authorizer can still name the reason. */
const KEEP_AFTER_END_SECONDS = 30 * 86_400;

const nowOf = (deps: ApiKeyStoreDeps) => (deps.now ? deps.now() : new Date());
const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

export function isLive(item: ApiKeyItem, now: Date): boolean {
  return (
    item.revokedAt === undefined &&
    (item.keyExpiresAt === null || Date.parse(item.keyExpiresAt) > now.getTime())
  );
}

export function apiKeyView(item: ApiKeyItem): ApiKey {
  return {
    id: item.keyId,
    object: 'api_key',
    name: item.name,
    prefix: item.prefix,
    scopes: [...item.scopes],
    created_at: item.createdAt,
    expires_at: item.keyExpiresAt,
    last_used_at: item.lastUsedAt ?? null,
  };
}

function newKeyId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `key_${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** The caller's keys that are not revoked (expired ones included, so people can see why one stopped working). */
export async function listApiKeys(deps: ApiKeyStoreDeps, sub: string): Promise<ApiKeyItem[]> {
  const items: ApiKeyItem[] = [];
  let cursor: Record<string, unknown> | undefined;
  // Bounded: live keys are capped and ended ones expire; ten pages are far more than a partition holds.
  for (let page = 0; page < 10; page += 1) {
    const output = await deps.db.send(
      new QueryCommand({
        TableName: deps.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'attribute_not_exists(revokedAt)',
        ExpressionAttributeValues: { ':pk': keys.userPartition(sub), ':prefix': keys.apiKeyPrefix },
        ExclusiveStartKey: cursor,
        ConsistentRead: true,
      }),
    );
    items.push(...((output.Items ?? []) as ApiKeyItem[]));
    cursor = output.LastEvaluatedKey;
    if (!cursor) break;
  }
  return items.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

async function reserveSlot(deps: ApiKeyStoreDeps, sub: string, keyId: string): Promise<boolean> {
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.liveApiKeys(sub),
        UpdateExpression: 'ADD keyIds :ids',
        ConditionExpression: 'attribute_not_exists(keyIds) OR size(keyIds) < :limit',
        ExpressionAttributeValues: { ':ids': new Set([keyId]), ':limit': API_KEY_LIMITS.maxLiveKeysPerUser },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

async function releaseSlots(deps: ApiKeyStoreDeps, sub: string, keyIds: readonly string[]): Promise<void> {
  if (keyIds.length === 0) return;
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: keys.liveApiKeys(sub),
      UpdateExpression: 'DELETE keyIds :ids',
      ExpressionAttributeValues: { ':ids': new Set(keyIds) },
    }),
  );
}

/**
 * Makes a key for `sub` with at most the caller's own scopes. The secret is returned here once and never
 * again. Keys that expired still hold a slot until a create finds the limit reached and frees theirs.
 */
export async function createApiKey(
  deps: ApiKeyStoreDeps,
  caller: { readonly sub: string; readonly scopes: readonly string[] },
  request: ApiKeyCreateRequest,
): Promise<CreatedApiKey> {
  const granted = new Set(caller.scopes);
  const scopes =
    request.scopes ?? (['chat:read', 'chat:write'] as const).filter((scope) => granted.has(scope));
  const beyond = scopes.filter((scope) => !granted.has(scope));
  if (beyond.length > 0 || scopes.length === 0) {
    throw new ValidationError(
      `A key can only carry scopes you hold yourself; you do not hold: ${beyond.join(' ') || 'any API scope'}.`,
      'scopes',
      'scope_not_granted',
    );
  }
  const now = nowOf(deps);
  const keyId = newKeyId();
  if (!(await reserveSlot(deps, caller.sub, keyId))) {
    const ended = (await listApiKeys(deps, caller.sub)).filter((item) => !isLive(item, now));
    await releaseSlots(
      deps,
      caller.sub,
      ended.map((item) => item.keyId),
    );
    if (!(await reserveSlot(deps, caller.sub, keyId))) {
      throw new ConflictError(
        `You already have ${API_KEY_LIMITS.maxLiveKeysPerUser} live API keys; revoke one before making another.`,
        'api_key_limit_reached',
      );
    }
  }

  const secret = generateApiKeySecret();
  const keyExpiresAt =
    request.expires_in_days == null
      ? null
      : new Date(now.getTime() + request.expires_in_days * 86_400_000).toISOString();
  const item: ApiKeyItem = {
    ...keys.apiKey(caller.sub, keyId),
    ...keys.apiKeyHashIndex(hashApiKeySecret(secret)),
    entity: 'api_key',
    keyId,
    sub: caller.sub,
    name: request.name,
    prefix: visiblePrefix(secret),
    scopes: [...scopes],
    createdAt: now.toISOString(),
    keyExpiresAt,
    ...(keyExpiresAt === null
      ? {}
      : { [TABLE.ttlAttribute]: Math.floor(Date.parse(keyExpiresAt) / 1000) + KEEP_AFTER_END_SECONDS }),
  };
  try {
    await deps.db.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    await releaseSlots(deps, caller.sub, [keyId]);
    throw error;
  }
  return { ...apiKeyView(item), key: secret };
}

type KeyUsage = ListedApiKey['usage_today'];
export const NO_KEY_USAGE: KeyUsage = { requests: 0, prompt_tokens: 0, completion_tokens: 0 };

/** Today's (UTC) usage of each key, from the usage aggregator's per-key items; keys not used today are absent. */
export async function usageToday(
  deps: ApiKeyStoreDeps,
  sub: string,
  keyIds: readonly string[],
): Promise<Map<string, KeyUsage>> {
  const day = nowOf(deps).toISOString().slice(0, 10);
  const usage = new Map<string, KeyUsage>();
  const count = (item: Record<string, unknown>, name: string) =>
    typeof item[name] === 'number' ? Math.max(0, Math.floor(item[name] as number)) : 0;
  // BatchGetItem takes 100 keys per call; unprocessed keys are asked again, a bounded number of times.
  for (let start = 0; start < keyIds.length; start += 100) {
    let pending: Record<string, unknown>[] | undefined = keyIds
      .slice(start, start + 100)
      .map((keyId) => keys.apiKeyUsage(sub, keyId, day));
    for (let attempt = 0; attempt < 5 && pending && pending.length > 0; attempt += 1) {
      const output: BatchGetCommandOutput = await deps.db.send(
        new BatchGetCommand({ RequestItems: { [deps.tableName]: { Keys: pending } } }),
      );
      for (const item of output.Responses?.[deps.tableName] ?? []) {
        const keyId = String(item.sk).split('#')[1] ?? '';
        usage.set(keyId, {
          requests: count(item, 'requests'),
          prompt_tokens: count(item, 'tokensIn'),
          completion_tokens: count(item, 'tokensOut'),
        });
      }
      pending = output.UnprocessedKeys?.[deps.tableName]?.Keys;
    }
  }
  return usage;
}

/** Revokes one of the caller's keys; another user's key, or one already revoked, is a 404. */
export async function revokeApiKey(deps: ApiKeyStoreDeps, sub: string, keyId: string): Promise<void> {
  const now = nowOf(deps);
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.apiKey(sub, keyId),
        UpdateExpression: 'SET revokedAt = :now, #ttl = :ttl',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
        ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute },
        ExpressionAttributeValues: {
          ':now': now.toISOString(),
          ':ttl': Math.floor(now.getTime() / 1000) + KEEP_AFTER_END_SECONDS,
        },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw new NotFoundError('API key', 'id');
    throw error;
  }
  await releaseSlots(deps, sub, [keyId]);
}

/** The key whose secret hashes to `secretHash`, revoked or not; undefined when there is none. */
export async function findApiKeyByHash(
  deps: ApiKeyStoreDeps,
  secretHash: string,
): Promise<ApiKeyItem | undefined> {
  const index = TABLE.globalSecondaryIndexes[1];
  const output = await deps.db.send(
    new QueryCommand({
      TableName: deps.tableName,
      IndexName: index.indexName,
      KeyConditionExpression: `${index.partitionKey} = :hash`,
      ExpressionAttributeValues: { ':hash': keys.apiKeyHashIndex(secretHash).gsi2pk },
      Limit: 1,
    }),
  );
  return output.Items?.[0] as ApiKeyItem | undefined;
}

/** Sets `lastUsedAt`, at most once per resolution window per key (a skipped write is not an error). */
export async function recordApiKeyUse(deps: ApiKeyStoreDeps, item: ApiKeyItem): Promise<void> {
  const now = nowOf(deps);
  const cutoff = new Date(now.getTime() - API_KEY_LIMITS.lastUsedResolutionSeconds * 1000).toISOString();
  if (item.lastUsedAt !== undefined && item.lastUsedAt > cutoff) return;
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: { pk: item.pk, sk: item.sk },
        UpdateExpression: `SET ${API_KEY_LAST_USED_ATTRIBUTE} = :now`,
        ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(${API_KEY_LAST_USED_ATTRIBUTE}) OR ${API_KEY_LAST_USED_ATTRIBUTE} < :cutoff)`,
        ExpressionAttributeValues: { ':now': now.toISOString(), ':cutoff': cutoff },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
