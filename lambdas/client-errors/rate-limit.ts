import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import { QuotaExceededError } from '../shared/errors';

export interface WindowLimit {
  /** Counter name, part of the key so limits never share a counter. */
  readonly name: string;
  readonly limit: number;
  readonly windowSeconds: number;
}

/**
 * A fixed-window counter per user in the single table (`USER#<sub>` / `QUOTA#<name>#<window start>`): one
 * conditional `ADD`, so concurrent requests never exceed the limit. Counters expire through TTL.
 */
export function windowCounter(client: DynamoDBDocumentClient, tableName: string, limit: WindowLimit) {
  return {
    /** Counts one request for `sub`; throws `QuotaExceededError` (429 + retry-after) when the window is full. */
    async consume(sub: string, nowMs: number = Date.now()): Promise<void> {
      const windowMs = limit.windowSeconds * 1000;
      const windowStart = Math.floor(nowMs / windowMs) * windowMs;
      const windowEnd = windowStart + windowMs;
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.quota(sub, `${limit.name}#${new Date(windowStart).toISOString()}`),
            UpdateExpression: 'ADD #count :one SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
            ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
            ExpressionAttributeNames: { '#count': 'count', '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':limit': limit.limit,
              ':expiresAt': Math.ceil(windowEnd / 1000) + limit.windowSeconds,
            },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          throw new QuotaExceededError(
            `Too many error reports: at most ${limit.limit} per ${limit.windowSeconds} s.`,
            (windowEnd - nowMs) / 1000,
            {
              'x-ratelimit-limit-requests': String(limit.limit),
              'x-ratelimit-remaining-requests': '0',
              'x-ratelimit-reset-requests': `${Math.ceil((windowEnd - nowMs) / 1000)}s`,
            },
          );
        }
        throw error;
      }
    },
  };
}
export type WindowCounter = ReturnType<typeof windowCounter>;
