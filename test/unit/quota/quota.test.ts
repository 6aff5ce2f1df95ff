import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeRequest, type QuotaDeps, rateLimitHeaders, recordTokens } from '../../../lambdas/quota';
import { QuotaExceededError } from '../../../lambdas/shared/errors';
import { startTable, TABLE_NAME, type TestTable } from '../chat/harness';

let table: TestTable;
beforeAll(async () => {
  table = await startTable();
});
afterAll(async () => table.close());

const fixedNow = () => new Date('2026-01-02T03:04:30Z');
const quota = (overrides: Partial<QuotaDeps> = {}): QuotaDeps => ({
  db: table.db,
  tableName: TABLE_NAME,
  requestsPerMinute: 3,
  tokensPerDay: 1_000,
  now: fixedNow,
  ...overrides,
});
const sub = () => `user-${crypto.randomUUID()}`;

describe('consumeRequest', () => {
  it('counts requests and reports what is left in x-ratelimit headers', async () => {
    const user = sub();
    await consumeRequest(quota(), user);
    const state = await consumeRequest(quota(), user);
    expect(rateLimitHeaders(state)).toMatchObject({
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '1',
      'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '1000',
    });
  });

  it('admits exactly the limit under concurrency and rejects the rest with 429 and retry-after', async () => {
    const user = sub();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => consumeRequest(quota(), user)));
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
    const error = (rejected[0] as PromiseRejectedResult).reason as QuotaExceededError;
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect(error.statusCode).toBe(429);
    expect(error.headers).toMatchObject({ 'retry-after': '30', 'x-ratelimit-remaining-requests': '0' });
  });

  it('starts a fresh window each minute', async () => {
    const user = sub();
    for (let index = 0; index < 3; index++) await consumeRequest(quota(), user);
    await expect(consumeRequest(quota(), user)).rejects.toBeInstanceOf(QuotaExceededError);
    const nextMinute = () => new Date('2026-01-02T03:05:01Z');
    await expect(consumeRequest(quota({ now: nextMinute }), user)).resolves.toBeDefined();
  });

  it('rejects once the day’s tokens are used up, until midnight UTC', async () => {
    const user = sub();
    await consumeRequest(quota(), user);
    await recordTokens(quota(), user, 1_000);
    const error = await consumeRequest(quota({ requestsPerMinute: 100 }), user).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect((error as QuotaExceededError).headers['retry-after']).toBe(
      String(86_400 - (3 * 3600 + 4 * 60 + 30)),
    );
  });
});
