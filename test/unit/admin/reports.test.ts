import { describe, expect, it } from 'vitest';
import { toCsv } from '../../../lambdas/admin/csv';
import { costOf, parseModelPrices } from '../../../lambdas/admin/prices';
import { usersReport } from '../../../lambdas/admin/reports';

const prices = parseModelPrices(
  JSON.stringify({
    big: { inputPerMillion: 10, outputPerMillion: 30 },
    '*': { inputPerMillion: 1, outputPerMillion: 2 },
  }),
);

describe('costs', () => {
  it('prices tokens per million, by model, with `*` for any other model', () => {
    expect(costOf(prices, 'big', 1_000_000, 500_000)).toBe(25);
    expect(costOf(prices, 'small', 2_000, 1_000)).toBe(0.004);
    expect(costOf({}, 'big', 1_000_000, 1_000_000)).toBe(0);
  });

  it('refuses malformed prices at start rather than reporting wrong costs', () => {
    expect(() => parseModelPrices('{"big":{"inputPerMillion":-1,"outputPerMillion":1}}')).toThrow(
      /MODEL_PRICES/,
    );
  });
});

describe('the users report', () => {
  it('merges directory people with usage, counts requests once, prices each model, and shows suspension', () => {
    const users = usersReport(
      [
        { id: 'alice', email: 'a@example.com', enabled: true, createdAt: 1 },
        { id: 'carol', email: null, enabled: false, createdAt: 2 },
      ],
      {
        usage: [
          { sub: 'alice', date: '2026-01-01', requests: 3, tokensIn: 1_000_000, tokensOut: 0 },
          { sub: 'alice', date: '2026-01-01', model: 'big', requests: 3, tokensIn: 1_000_000, tokensOut: 0 },
          { sub: 'bob', date: '2026-01-02', requests: 1, tokensIn: 1_000_000, tokensOut: 1_000_000 },
        ],
        suspended: new Map([['bob', '2026-01-03T00:00:00Z']]),
      },
      prices,
    );
    const byId = Object.fromEntries(users.map((user) => [user.id, user]));
    expect(byId.alice).toMatchObject({
      status: 'active',
      last_active: '2026-01-01',
      usage: { requests: 3, cost: 10 },
    });
    // No per-model rows that day: priced at `*`.
    expect(byId.bob).toMatchObject({ status: 'suspended', email: null, usage: { requests: 1, cost: 3 } });
    expect(byId.carol).toMatchObject({ status: 'disabled', last_active: null, usage: { requests: 0 } });
  });
});

describe('CSV export', () => {
  it('quotes what needs quoting and defuses spreadsheet formulas', () => {
    expect(
      toCsv(
        ['id', 'n'],
        [
          { id: 'a,"b"', n: 1 },
          { id: '=HYPERLINK("x")', n: null },
        ],
      ),
    ).toBe('id,n\r\n"a,""b""",1\r\n"\'=HYPERLINK(""x"")",\r\n');
  });
});
