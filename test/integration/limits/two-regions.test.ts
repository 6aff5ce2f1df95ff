/**
 * Two independent writers in two regions on one table (as the global table's replicas are, once replicated): the
 * same user's limits hold over both together. Each region counts on its own item and checks the sum, so calling
 * both regional URLs does not double a user's quota.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { admitTurn, type QuotaDeps, settleTurn } from '../../../lambdas/quota';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { stack } from '../setup/context';
import { type ApiHandler, apiEvent, itemsWithPrefix, lambdaContext, useStackEnvironment } from './harness';

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

async function countersOf(
  sub: string,
  prefix: string,
  attribute = 'requests',
): Promise<Record<string, number>> {
  const items = await itemsWithPrefix(db, sub, prefix);
  return Object.fromEntries(items.map((item) => [String(item.sk), Number(item[attribute])]));
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

  it('gets the daily tokens once over both regions, reserved and settled in the region of the turn', async () => {
    const sub = `tokens-${randomUUID()}`;
    const quota = (region: string): QuotaDeps => ({
      db,
      tableName: LOCAL_TABLE_NAME,
      requestsPerMinute: 100,
      tokensPerDay: 1_000,
      region,
      regions: REGIONS.split(','),
    });
    const turn = () => ({ turnId: randomUUID(), wantedTokens: 300, expiresAtMs: Date.now() + 60_000 });

    // Each region admits a 300-token turn that uses 250; then each wants 300 more: 500 are left in all.
    for (const region of ['us-east-1', 'eu-west-1']) {
      const admission = await admitTurn(quota(region), sub, turn());
      await settleTurn(quota(region), sub, admission, 250);
    }
    const third = await admitTurn(quota('us-east-1'), sub, turn());
    const fourth = await admitTurn(quota('eu-west-1'), sub, turn());
    const refused = await admitTurn(quota('us-east-1'), sub, turn()).catch((error: { statusCode?: number }) =>
      String(error.statusCode),
    );

    expect([third.reservedTokens, fourth.reservedTokens]).toEqual([300, 200]);
    expect(fourth.state.remainingTokens).toBe(0);
    expect(refused).toBe('429');
    const counters = await countersOf(sub, 'QUOTA#TPD#', 'tokens');
    expect(counters).toEqual({
      'QUOTA#TPD#2026-12-01@us-east-1': 550,
      'QUOTA#TPD#2026-12-01@eu-west-1': 450,
    });
  });
});
