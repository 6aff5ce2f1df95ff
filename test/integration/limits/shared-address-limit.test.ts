/**
 * The public share route's limit per client address, on the real handler and the local table: with 3 reads a
 * minute (`SHARED_READS_PER_MINUTE_PER_IP`), an address gets three answers, then a 429 with `retry-after`
 * (still `noindex`); another address keeps its own window, and the next minute starts again.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ApiHandler, apiEvent, lambdaContext, useStackEnvironment } from './harness';

let conversations: ApiHandler;

beforeAll(async () => {
  useStackEnvironment({ SHARED_READS_PER_MINUTE_PER_IP: '3' });
  ({ handler: conversations } = (await import('../../../lambdas/conversations/handler')) as unknown as {
    handler: ApiHandler;
  });
});

// Only the clock is faked, so that the requests of one test share a minute; I/O runs for real.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-01T10:30:15.000Z'));
});
afterEach(() => vi.useRealTimers());

/** A documentation-range IPv6 address no other run uses (the table may keep counters between runs). */
const uniqueAddress = () => `2001:db8::${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}`;

/** An anonymous open of a share link from `address` (no authorizer ran: the route is public). */
function openFrom(address: string): APIGatewayProxyEvent {
  const event = apiEvent('nobody', 'GET', `/v1/shared/shr_${'B'.repeat(22)}`);
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      authorizer: null,
      identity: { ...event.requestContext.identity, sourceIp: address },
    },
  };
}

describe('the share route’s limit per address', () => {
  it('answers three opens a minute from one address, then 429 with retry-after; others keep theirs', async () => {
    const address = uniqueAddress();
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await conversations(openFrom(address), lambdaContext);
      expect(answer.statusCode).toBe(404);
      remaining.push(String(answer.headers?.['x-ratelimit-remaining-requests']));
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await conversations(openFrom(address), lambdaContext);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers?.['retry-after']).toBe('45');
    expect(refused.headers?.['x-robots-tag']).toContain('noindex');
    expect(JSON.parse(refused.body).error.type).toBe('rate_limit_error');

    const elsewhere = await conversations(openFrom(uniqueAddress()), lambdaContext);
    expect(elsewhere.statusCode).toBe(404);

    vi.setSystemTime(new Date('2026-12-01T10:31:00.000Z'));
    expect((await conversations(openFrom(address), lambdaContext)).statusCode).toBe(404);
  });
});
