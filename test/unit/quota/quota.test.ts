import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitTurn, type QuotaDeps, rateLimitHeaders, settleTurn } from '../../../lambdas/quota';
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
const turn = (wantedTokens = 100) => ({
  turnId: crypto.randomUUID(),
  wantedTokens,
  expiresAtMs: fixedNow().getTime() + 60_000,
});
/** Admits one turn and settles it at once with what it used. */
async function consumeRequest(deps: QuotaDeps, user: string) {
  const admission = await admitTurn(deps, user, turn());
  await settleTurn(deps, user, admission, 0);
  return admission.state;
}

describe('admitTurn', () => {
  it('counts requests and reports what is left in x-ratelimit headers', async () => {
    const user = sub();
    await consumeRequest(quota(), user);
    const admission = await admitTurn(quota(), user, turn(100));
    const state = admission.state;
    expect(rateLimitHeaders(state)).toMatchObject({
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '1',
      'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '1000',
      // The turn in progress holds its reservation.
      'x-ratelimit-remaining-tokens': '900',
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
    const admission = await admitTurn(quota(), user, turn(10));
    await settleTurn(quota(), user, admission, 1_000);
    const error = await consumeRequest(quota({ requestsPerMinute: 100 }), user).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect((error as QuotaExceededError).headers['retry-after']).toBe(
      String(86_400 - (3 * 3600 + 4 * 60 + 30)),
    );
  });
});

describe('token reservations', () => {
  it('never let concurrent long turns overrun the day’s budget: each reserves before it runs', async () => {
    const user = sub();
    const deps = quota({ requestsPerMinute: 100 });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => admitTurn(deps, user, turn(300))),
    );
    const admitted = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    // 1 000 tokens a day, 300 wanted each: three full reservations and one of the remaining 100.
    expect(admitted.map((admission) => admission.reservedTokens).sort((a, b) => b - a)).toEqual([
      300, 300, 300, 100,
    ]);
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(2);
  });

  it('settle to what the turn used, giving back the rest', async () => {
    const user = sub();
    const deps = quota({ requestsPerMinute: 100 });
    const first = await admitTurn(deps, user, turn(900));
    await settleTurn(deps, user, first, 50);
    const second = await admitTurn(deps, user, turn(900));
    expect(second.reservedTokens).toBe(900);
    expect(second.state.remainingTokens).toBe(1_000 - 50 - 900);
  });
});

describe('concurrent turns', () => {
  it('refuse a turn beyond the per-user limit with 429 and retry-after, until one settles', async () => {
    const user = sub();
    const deps = quota({ requestsPerMinute: 100, tokensPerDay: 1e9, maxConcurrentTurns: 2 });
    const first = await admitTurn(deps, user, turn());
    await admitTurn(deps, user, turn());
    const refused = await admitTurn(deps, user, turn()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(QuotaExceededError);
    expect((refused as QuotaExceededError).headers['retry-after']).toBeDefined();
    await settleTurn(deps, user, first, 10);
    await expect(admitTurn(deps, user, turn())).resolves.toMatchObject({ reservedTokens: 100 });
  });

  it('stop counting a slot whose holder died, once its turn would have ended', async () => {
    const user = sub();
    const deps = quota({ requestsPerMinute: 100, tokensPerDay: 1e9, maxConcurrentTurns: 1 });
    await admitTurn(deps, user, { ...turn(), expiresAtMs: fixedNow().getTime() - 1 });
    await expect(admitTurn(deps, user, turn())).resolves.toBeDefined();
  });
});
