import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { QuotaOverride } from '../contracts/admin';
import { keys } from '../contracts/keys';

/**
 * An administrator's per-user quota limits (`keys.quotaOverride`), in place of the configured defaults. The
 * quota module asks `withQuotaOverride` for the limits of each turn it admits, so an override takes effect at
 * the user's next request.
 */
export interface OverrideDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
}

export interface QuotaLimits {
  readonly requestsPerMinute: number;
  readonly tokensPerDay: number;
}

export async function findQuotaOverride(deps: OverrideDeps, sub: string): Promise<QuotaOverride | undefined> {
  const { Item } = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: keys.quotaOverride(sub) }),
  );
  if (!Item) return undefined;
  return {
    ...(typeof Item.requestsPerMinute === 'number' ? { requests_per_minute: Item.requestsPerMinute } : {}),
    ...(typeof Item.tokensPerDay === 'number' ? { tokens_per_day: Item.tokensPerDay } : {}),
  };
}

export async function setQuotaOverride(
  deps: OverrideDeps,
  sub: string,
  override: QuotaOverride,
  by: string,
  now: Date,
): Promise<void> {
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: {
        ...keys.quotaOverride(sub),
        entity: 'quota-override',
        ...(override.requests_per_minute === undefined
          ? {}
          : { requestsPerMinute: override.requests_per_minute }),
        ...(override.tokens_per_day === undefined ? {} : { tokensPerDay: override.tokens_per_day }),
        setBy: by,
        setAt: now.toISOString(),
      },
    }),
  );
}

export async function clearQuotaOverride(deps: OverrideDeps, sub: string): Promise<void> {
  await deps.db.send(new DeleteCommand({ TableName: deps.tableName, Key: keys.quotaOverride(sub) }));
}

/** The quota deps with the user's overridden limits, when an administrator set any. */
export async function withQuotaOverride<T extends OverrideDeps & QuotaLimits>(
  deps: T,
  sub: string,
): Promise<T> {
  const override = await findQuotaOverride(deps, sub);
  if (!override) return deps;
  return {
    ...deps,
    requestsPerMinute: override.requests_per_minute ?? deps.requestsPerMinute,
    tokensPerDay: override.tokens_per_day ?? deps.tokensPerDay,
  };
}
