import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import { TABLE } from '../contracts/table';
import { QuotaExceededError } from '../shared/errors';

/**
 * Per-user fixed-window quotas in the single table: requests per minute and tokens per day. The request
 * counter is one atomic conditional update, so concurrent requests can never push it past its limit; the
 * token counter is read before a turn (a budget already spent stops the next request) and added to after it.
 */
export interface QuotaDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly requestsPerMinute: number;
  readonly tokensPerDay: number;
  readonly now?: () => Date;
}

export interface QuotaState {
  readonly limitRequests: number;
  readonly remainingRequests: number;
  readonly resetRequestsSeconds: number;
  readonly limitTokens: number;
  readonly remainingTokens: number;
  readonly resetTokensSeconds: number;
}

function windows(now: Date) {
  const iso = now.toISOString();
  const minute = iso.slice(0, 16); // YYYY-MM-DDTHH:MM
  const day = iso.slice(0, 10);
  const epoch = Math.floor(now.getTime() / 1000);
  const minuteEnd = Math.floor(epoch / 60) * 60 + 60;
  const dayEnd = Math.floor(epoch / 86_400) * 86_400 + 86_400;
  return {
    minute: `RPM#${minute}`,
    day: `TPD#${day}`,
    resetRequestsSeconds: minuteEnd - epoch,
    resetTokensSeconds: dayEnd - epoch,
    minuteExpiresAt: minuteEnd + 300,
    dayExpiresAt: dayEnd + 86_400,
  };
}

/** OpenAI-style `x-ratelimit-*` headers, sent with every chat response (429s included). */
export function rateLimitHeaders(state: QuotaState): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(state.limitRequests),
    'x-ratelimit-remaining-requests': String(Math.max(0, state.remainingRequests)),
    'x-ratelimit-reset-requests': `${state.resetRequestsSeconds}s`,
    'x-ratelimit-limit-tokens': String(state.limitTokens),
    'x-ratelimit-remaining-tokens': String(Math.max(0, state.remainingTokens)),
    'x-ratelimit-reset-tokens': `${state.resetTokensSeconds}s`,
  };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function numberOf(item: Record<string, unknown> | undefined, name: string): number {
  const value = item?.[name];
  return typeof value === 'number' ? value : 0;
}

/**
 * Counts one request (atomic, conditional) and checks the day's token budget, in parallel.
 * Throws `QuotaExceededError` (429, `retry-after`, `x-ratelimit-*`) when either is exhausted.
 */
export async function consumeRequest(deps: QuotaDeps, sub: string): Promise<QuotaState> {
  const now = deps.now ? deps.now() : new Date();
  const window = windows(now);
  const [requests, tokens] = await Promise.all([
    deps.db
      .send(
        new UpdateCommand({
          TableName: deps.tableName,
          Key: keys.quota(sub, window.minute),
          UpdateExpression: 'ADD requests :one SET #ttl = if_not_exists(#ttl, :ttl)',
          ConditionExpression: 'attribute_not_exists(requests) OR requests < :limit',
          ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute },
          ExpressionAttributeValues: {
            ':one': 1,
            ':limit': deps.requestsPerMinute,
            ':ttl': window.minuteExpiresAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      )
      .then((result) => ({ ok: true as const, used: numberOf(result.Attributes, 'requests') }))
      .catch((error: unknown) => {
        if (isConditionFailure(error)) return { ok: false as const, used: deps.requestsPerMinute };
        throw error;
      }),
    // The day's tokens are only read here (they are added when a turn ends): a read takes no write lock on the
    // counter that every concurrent request of this user shares.
    deps.db
      .send(new GetCommand({ TableName: deps.tableName, Key: keys.quota(sub, window.day) }))
      .then((result) => {
        const used = numberOf(result.Item, 'tokens');
        return { ok: used < deps.tokensPerDay, used: Math.min(used, deps.tokensPerDay) };
      }),
  ]);
  const state: QuotaState = {
    limitRequests: deps.requestsPerMinute,
    remainingRequests: deps.requestsPerMinute - requests.used,
    resetRequestsSeconds: window.resetRequestsSeconds,
    limitTokens: deps.tokensPerDay,
    remainingTokens: deps.tokensPerDay - tokens.used,
    resetTokensSeconds: window.resetTokensSeconds,
  };
  if (!requests.ok) {
    throw new QuotaExceededError(
      `Rate limit reached: ${deps.requestsPerMinute} requests per minute. Please retry after ${window.resetRequestsSeconds} s.`,
      window.resetRequestsSeconds,
      rateLimitHeaders(state),
    );
  }
  if (!tokens.ok) {
    throw new QuotaExceededError(
      `Daily token quota of ${deps.tokensPerDay} tokens reached. It resets at midnight UTC.`,
      window.resetTokensSeconds,
      rateLimitHeaders(state),
    );
  }
  return state;
}

/** Adds the tokens a finished request used to the day's counter. */
export async function recordTokens(deps: QuotaDeps, sub: string, tokens: number): Promise<void> {
  if (tokens <= 0) return;
  const window = windows(deps.now ? deps.now() : new Date());
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: keys.quota(sub, window.day),
      UpdateExpression: 'ADD #tokens :tokens SET #ttl = if_not_exists(#ttl, :ttl)',
      ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute, '#tokens': 'tokens' },
      ExpressionAttributeValues: { ':tokens': tokens, ':ttl': window.dayExpiresAt },
    }),
  );
}
