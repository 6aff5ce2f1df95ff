import { keys } from '../contracts/keys';
import { ROUTE_LIMIT_ATTRIBUTE } from '../contracts/table';
import { QuotaExceededError } from '../shared/errors';
import { countWithinLimit, type RegionalCounterDeps } from './regional-counter';

/**
 * Per-user request limits for every API route: reads (GET/HEAD) and writes (everything else) count in separate
 * fixed one-minute windows, so a burst of listing never blocks sending and the other way round.
 */
export type RouteBucket = 'read' | 'write';

export interface RouteLimits {
  readonly readsPerMinute: number;
  readonly writesPerMinute: number;
}

/** What a counted request learns about its window: the `x-ratelimit-*` headers are built from it. */
export interface RouteLimitState {
  readonly limit: number;
  readonly remaining: number;
  readonly resetSeconds: number;
}

/** Counts one request of `sub` in `bucket`; `ok: false` when the window was already full (nothing counted). */
export interface RouteCounter {
  count(
    sub: string,
    bucket: RouteBucket,
    limit: number,
    nowMs: number,
  ): Promise<{ ok: boolean; used: number }>;
}

const WINDOW_MS = 60_000;

export function bucketOf(httpMethod: string): RouteBucket {
  return httpMethod === 'GET' || httpMethod === 'HEAD' ? 'read' : 'write';
}

function windowOf(nowMs: number) {
  const start = Math.floor(nowMs / WINDOW_MS) * WINDOW_MS;
  return { start, resetSeconds: Math.max(1, Math.ceil((start + WINDOW_MS - nowMs) / 1000)) };
}

/** `x-ratelimit-*-requests` headers of a counted (or refused) request. */
export function routeLimitHeaders(state: RouteLimitState): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(state.limit),
    'x-ratelimit-remaining-requests': String(Math.max(0, state.remaining)),
    'x-ratelimit-reset-requests': `${state.resetSeconds}s`,
  };
}

/**
 * Counts the request and returns its window's state, or throws `QuotaExceededError` (429, `retry-after`, the
 * same headers) when the caller's bucket is full.
 */
export async function consumeRoute(
  counter: RouteCounter,
  limits: RouteLimits,
  sub: string,
  bucket: RouteBucket,
  nowMs: number = Date.now(),
): Promise<RouteLimitState> {
  const limit = bucket === 'read' ? limits.readsPerMinute : limits.writesPerMinute;
  const window = windowOf(nowMs);
  const { ok, used } = await counter.count(sub, bucket, limit, nowMs);
  const state = { limit, remaining: limit - used, resetSeconds: window.resetSeconds };
  if (!ok) {
    throw new QuotaExceededError(
      `Rate limit reached: ${limit} ${bucket} requests per minute. Please retry after ${window.resetSeconds} s.`,
      window.resetSeconds,
      routeLimitHeaders(state),
    );
  }
  return state;
}

/**
 * The counter in the single table: `QUOTA#ROUTE#<bucket>#<minute>` in the caller's partition, kept per region and
 * summed (lambdas/quota/regional-counter.ts), expiring through TTL. Only the count and the TTL attribute are
 * written, and only the count is read (the CDK grant allows exactly those).
 */
export function tableRouteCounter(
  deps: RegionalCounterDeps,
  /** The counter item of a window (the public share route counts per client address instead). */
  keyOf: (sub: string, bucket: RouteBucket, minute: string) => { pk: string; sk: string } = keys.routeQuota,
): RouteCounter {
  return {
    count(sub, bucket, limit, nowMs) {
      const { start } = windowOf(nowMs);
      const key = keyOf(sub, bucket, new Date(start).toISOString().slice(0, 16));
      return countWithinLimit(
        deps,
        key,
        ROUTE_LIMIT_ATTRIBUTE,
        limit,
        Math.ceil((start + WINDOW_MS) / 1000) + 300,
      );
    },
  };
}

/**
 * A counter in this container's memory, for a route that must not write the table (client error reports): it
 * bounds what one warm container accepts from one user, not what the fleet does. Bounded: windows older than the
 * current one are dropped, and at most `maxUsers` users are tracked per window.
 */
export function memoryRouteCounter(maxUsers = 10_000): RouteCounter {
  let windowStart = 0;
  const counts = new Map<string, number>();
  return {
    async count(sub, bucket, limit, nowMs) {
      const { start } = windowOf(nowMs);
      if (start !== windowStart) {
        windowStart = start;
        counts.clear();
      }
      const key = `${bucket}#${sub}`;
      const used = counts.get(key) ?? 0;
      if (used >= limit) return { ok: false, used };
      if (!counts.has(key) && counts.size >= maxUsers) return { ok: false, used: limit };
      counts.set(key, used + 1);
      return { ok: true, used: used + 1 };
    },
  };
}
