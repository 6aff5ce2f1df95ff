/**
 * Usage made with a personal API key counts towards its owner's total (the quotas read that) and, once more,
 * towards the key's own total — each exactly once, also when a record is delivered again.
 */
import { describe, expect, it } from 'vitest';
import { buildEvent } from '../../../lambdas/contracts/events';
import { keys } from '../../../lambdas/contracts/keys';
import { aggregateUsage } from '../../../lambdas/usage-aggregator/aggregate';
import { LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { usageOf as read, table } from './harness';

describe('usage of a personal API key', () => {
  it('is added to the owner’s day and to the key’s day, once per record', async () => {
    const sub = `key-usage-${crypto.randomUUID()}`;
    const apiKeyId = 'key_0123456789abcdef01234567';
    const deps = { dynamo: table(), tableName: LOCAL_TABLE_NAME };
    const withKey = buildEvent({
      type: 'chat.turn',
      sub,
      apiKeyId,
      status: 'ok',
      tokensIn: 10,
      tokensOut: 5,
    });
    const withToken = buildEvent({ type: 'chat.turn', sub, status: 'ok', tokensIn: 3, tokensOut: 2 });
    const day = withKey.occurredAt.slice(0, 10);

    expect(await aggregateUsage(deps, withKey, { shardId: 'shard-0', sequenceNumber: '100' })).toBe(
      'counted',
    );
    // A redelivered record counts nowhere again.
    expect(await aggregateUsage(deps, withKey, { shardId: 'shard-0', sequenceNumber: '100' })).toBe(
      'already-counted',
    );
    expect(await aggregateUsage(deps, withToken, { shardId: 'shard-0', sequenceNumber: '101' })).toBe(
      'counted',
    );

    expect(await read(keys.usage(sub, day))).toMatchObject({ requests: 2, tokensIn: 13, tokensOut: 7 });
    expect(await read(keys.apiKeyUsage(sub, apiKeyId, day))).toMatchObject({
      requests: 1,
      tokensIn: 10,
      tokensOut: 5,
    });
  });
});
