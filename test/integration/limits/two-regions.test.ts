/**
 * Two independent writers in two regions on one table (as the global table's replicas are, once replicated): the
 * same user's limits hold over both together. Each region counts on its own item and checks the sum, so calling
 * both regional URLs does not double a user's quota.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import { admitTurn, type QuotaDeps } from '../../../lambdas/quota';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { stack } from '../setup/context';
import { type ApiHandler, apiEvent, lambdaContext, useStackEnvironment } from './harness';

const REGIONS = 'us-east-1,eu-west-1';
let east: ApiHandler;
let west: ApiHandler;
let db: DynamoDBDocumentClient;

/** The models handler as a function in `region` loads it: its own module instances, its own configuration. */
async function handlerIn(region: string): Promise<ApiHandler> {
  vi.resetModules();
  useStackEnvironment({ AWS_REGION: region, TABLE_REGIONS: REGIONS, QUOTA_READS_PER_MINUTE: '6' });
  return ((await import('../../../lambdas/models/handler')) as unknown as { handler: ApiHandler }).handler;
}

beforeAll(async () => {
  east = await handlerIn('us-east-1');
  west = await handlerIn('eu-west-1');
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack().dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  );
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-01T10:40:05.000Z'));
});
afterEach(() => vi.useRealTimers());

async function countersOf(sub: string, prefix: string): Promise<Record<string, number>> {
  const page = await db.send(
    new QueryCommand({
      TableName: LOCAL_TABLE_NAME,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.userPartition(sub), ':prefix': prefix },
      ConsistentRead: true,
    }),
  );
  return Object.fromEntries((page.Items ?? []).map((item) => [String(item.sk), Number(item.requests)]));
}

describe('one user calling both regions', () => {
  it('gets the read limit once over both regions, not once per region', async () => {
    const sub = `regions-${randomUUID()}`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (const handler of [east, west]) {
        statuses.push((await handler(apiEvent(sub, 'GET', '/v1/models'), lambdaContext)).statusCode);
      }
    }

    expect(statuses.filter((status) => status === 200)).toHaveLength(6);
    expect(statuses.slice(6).every((status) => status === 429)).toBe(true);
    expect(await countersOf(sub, 'QUOTA#ROUTE#read#')).toEqual({
      'QUOTA#ROUTE#read#2026-12-01T10:40@us-east-1': 3,
      'QUOTA#ROUTE#read#2026-12-01T10:40@eu-west-1': 3,
    });
  });

  it('gets the chat requests per minute once over both regions', async () => {
    const sub = `turns-${randomUUID()}`;
    const quota = (region: string): QuotaDeps => ({
      db,
      tableName: LOCAL_TABLE_NAME,
      requestsPerMinute: 4,
      tokensPerDay: 1_000_000,
      region,
      regions: REGIONS.split(','),
    });
    const admit = (region: string) =>
      admitTurn(quota(region), sub, {
        turnId: randomUUID(),
        wantedTokens: 10,
        expiresAtMs: Date.now() + 60_000,
      }).then(
        () => 'admitted',
        (error: { statusCode?: number }) => String(error.statusCode),
      );

    // Sequential pairs: each region sees what the other counted (on one table there is no replication lag).
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) outcomes.push(await admit('us-east-1'), await admit('eu-west-1'));

    expect(outcomes.filter((outcome) => outcome === 'admitted')).toHaveLength(4);
    expect(outcomes.slice(4)).toEqual(['429', '429']);
    const counters = await countersOf(sub, 'QUOTA#RPM#');
    expect(Object.values(counters).reduce((a, b) => a + b, 0)).toBe(4);
    expect(
      Object.keys(counters)
        .map((sk) => sk.split('@')[1])
        .sort(),
    ).toEqual(['eu-west-1', 'us-east-1']);
  });
});
