import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { keys } from '../contracts/keys';
import type { RegionalCounterDeps } from '../quota/regional-counter';
import { consumeRoute, type RouteLimitState, tableRouteCounter } from '../quota/route-limit';

/**
 * The public share route has no caller to count, so it is limited per client address: a fixed one-minute window
 * per address in the table (summed over regions, as the per-user limits), keyed by a hash of the address so no
 * address is stored. API Gateway sets `sourceIp` from the connection (a client cannot choose it with a header);
 * the WAF's per-IP rule also applies in the cloud.
 */
export function addressOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): string {
  return event.requestContext.identity?.sourceIp || 'unknown';
}

/** Counts one public read from the event's address; a full window throws the 429 with `retry-after`. */
export function consumeSharedRead(
  deps: RegionalCounterDeps,
  event: Pick<APIGatewayProxyEvent, 'requestContext'>,
  perMinute: number,
  nowMs: number = Date.now(),
): Promise<RouteLimitState> {
  const addressHash = createHash('sha256').update(addressOf(event)).digest('base64url').slice(0, 22);
  return consumeRoute(
    tableRouteCounter(deps, (address, _bucket, minute) => keys.sharedReadQuota(address, minute)),
    { readsPerMinute: perMinute, writesPerMinute: perMinute },
    addressHash,
    'read',
    nowMs,
  );
}
