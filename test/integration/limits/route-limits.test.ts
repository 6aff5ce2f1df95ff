/**
 * Per-user route limits on the real handlers and the local table: reads and writes count in buckets of their own,
 * every answer carries the window's `x-ratelimit-*` headers, and a full bucket is a 429 with `retry-after`.
 * Small limits (5 reads, 3 writes a minute) through the same config keys the README lists.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { call } from '../auth/harness';
import { machineToken } from '../setup/context';
import { type ApiHandler, apiEvent, lambdaContext, useStackEnvironment } from './harness';

let conversations: ApiHandler;
let models: ApiHandler;
let me: ApiHandler;

beforeAll(async () => {
  useStackEnvironment({ QUOTA_READS_PER_MINUTE: '5', QUOTA_WRITES_PER_MINUTE: '3' });
  ({ handler: conversations } = (await import('../../../lambdas/conversations/handler')) as unknown as {
    handler: ApiHandler;
  });
  ({ handler: models } = (await import('../../../lambdas/models/handler')) as unknown as {
    handler: ApiHandler;
  });
  ({ handler: me } = (await import('../../../lambdas/me/handler')) as unknown as { handler: ApiHandler });
});

// Only the clock is faked, so that the requests of one test share a minute; I/O runs for real.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-01T10:20:15.000Z'));
});
afterEach(() => vi.useRealTimers());

describe('the read bucket', () => {
  it('answers 5 reads with falling remaining counts, then a 429 with retry-after and the error object', async () => {
    const sub = `reads-${randomUUID()}`;
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await conversations(apiEvent(sub, 'GET', '/v1/conversations'), lambdaContext);
      expect(answer.statusCode).toBe(200);
      expect(answer.headers?.['x-ratelimit-limit-requests']).toBe('5');
      remaining.push(String(answer.headers?.['x-ratelimit-remaining-requests']));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);

    const refused = await conversations(apiEvent(sub, 'GET', '/v1/conversations'), lambdaContext);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers?.['retry-after']).toBe('45');
    expect(refused.headers?.['x-ratelimit-reset-requests']).toBe('45s');
    expect(refused.headers?.['x-ratelimit-remaining-requests']).toBe('0');
    expect(JSON.parse(refused.body)).toMatchObject({
      error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    });
  });

  it('is shared by every read route of the user, and other users keep their own', async () => {
    const sub = `shared-${randomUUID()}`;
    for (let i = 0; i < 3; i++) await models(apiEvent(sub, 'GET', '/v1/models'), lambdaContext);
    for (let i = 0; i < 2; i++) await me(apiEvent(sub, 'GET', '/v1/me/usage'), lambdaContext);

    expect((await conversations(apiEvent(sub, 'GET', '/v1/conversations'), lambdaContext)).statusCode).toBe(
      429,
    );
    expect((await models(apiEvent(sub, 'GET', '/v1/models'), lambdaContext)).statusCode).toBe(429);
    const other = await models(apiEvent(`other-${randomUUID()}`, 'GET', '/v1/models'), lambdaContext);
    expect(other.statusCode).toBe(200);
    expect(other.headers?.['x-ratelimit-remaining-requests']).toBe('4');
  });

  it('starts again in the next minute', async () => {
    const sub = `window-${randomUUID()}`;
    for (let i = 0; i < 5; i++) await models(apiEvent(sub, 'GET', '/v1/models'), lambdaContext);
    expect((await models(apiEvent(sub, 'GET', '/v1/models'), lambdaContext)).statusCode).toBe(429);

    vi.setSystemTime(new Date('2026-12-01T10:21:00.000Z'));

    const next = await models(apiEvent(sub, 'GET', '/v1/models'), lambdaContext);
    expect(next.statusCode).toBe(200);
    expect(next.headers?.['x-ratelimit-remaining-requests']).toBe('4');
  });
});

describe('the write bucket', () => {
  it('refuses the 4th write while reads still pass, and puts the headers on error answers too', async () => {
    const sub = `writes-${randomUUID()}`;
    const missing = `/v1/conversations/${randomUUID()}`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await conversations(apiEvent(sub, 'DELETE', missing), lambdaContext);
      statuses.push(answer.statusCode);
      expect(answer.headers?.['x-ratelimit-limit-requests']).toBe('3');
      expect(answer.headers?.['x-ratelimit-remaining-requests']).toBe(String(2 - i));
    }
    expect(statuses).toEqual([404, 404, 404]);

    const refused = await conversations(apiEvent(sub, 'PATCH', missing, { title: 'renamed' }), lambdaContext);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers?.['retry-after']).toBe('45');

    const read = await conversations(apiEvent(sub, 'GET', '/v1/conversations'), lambdaContext);
    expect(read.statusCode).toBe(200);
    expect(read.headers?.['x-ratelimit-limit-requests']).toBe('5');
  });
});

describe('through the local API', () => {
  it.each([
    ['GET', '/models'],
    ['GET', '/conversations'],
    ['GET', '/me/usage'],
    ['GET', '/files'],
    ['POST', '/client-errors'],
  ])('%s %s carries the x-ratelimit headers', async (method, path) => {
    vi.useRealTimers();
    const answer = await call(
      await machineToken('b'),
      method,
      path,
      method === 'POST' ? { kind: 'uncaught', message: 'limits test' } : undefined,
    );
    expect(answer.status).toBeLessThan(300);
    expect(Number(answer.headers.get('x-ratelimit-limit-requests'))).toBeGreaterThan(0);
    expect(answer.headers.get('x-ratelimit-remaining-requests')).toMatch(/^\d+$/);
    expect(answer.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
  });
});
