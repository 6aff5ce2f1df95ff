import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { EnvName } from '../contracts/env';
import {
  bucketOf,
  consumeRoute,
  type RouteCounter,
  type RouteLimits,
  routeLimitHeaders,
  tableRouteCounter,
} from '../quota/route-limit';
import { callerOf } from './auth';
import { config, required } from './config';
import { documentClient } from './dynamodb-client';

type ApiMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;

/** How a handler's route is limited: the shared table counter, this container's memory, or its own admission. */
export type RouteLimitMode = 'table' | 'memory' | 'own';

/** The per-user limits every route gets unless configured otherwise (README: `quotas.readsPerMinute`…). */
export function routeLimitsFromConfig(): RouteLimits {
  const cfg = config();
  return { readsPerMinute: cfg.routeReadsPerMinute ?? 300, writesPerMinute: cfg.routeWritesPerMinute ?? 60 };
}

let tableCounter: RouteCounter | undefined;
/** The table counter of this container (the table name is required: a route must not run unlimited). */
export function sharedTableRouteCounter(): RouteCounter {
  const cfg = config();
  tableCounter ??= tableRouteCounter({
    db: documentClient(),
    tableName: required(cfg.tableName, EnvName.tableName),
    region: cfg.region,
    regions: cfg.tableRegions ?? [],
  });
  return tableCounter;
}

/**
 * Per-user route limits as two middlewares: `count` (registered last, so every request is first counted in the
 * metrics) refuses a full bucket with a 429; `decorate` (registered before the error mapping, so it runs after
 * it) puts the window's `x-ratelimit-*` headers on every answer, errors included.
 */
export function routeLimitMiddlewares(
  counter: () => RouteCounter,
  limits: () => RouteLimits = routeLimitsFromConfig,
  /** Requests limited by something else (a chat turn's admission): not counted here. */
  exempt: (event: APIGatewayProxyEvent) => boolean = () => false,
): { count: ApiMiddleware; decorate: ApiMiddleware } {
  const headersOf = new WeakMap<APIGatewayProxyEvent, Record<string, string>>();
  const decorate = (request: { event: APIGatewayProxyEvent; response: APIGatewayProxyResult | null }) => {
    const headers = headersOf.get(request.event);
    if (!headers || !request.response) return;
    // A refusal already carries its own (zero-remaining) headers.
    request.response.headers = { ...headers, ...request.response.headers };
  };
  return {
    count: {
      before: async (request) => {
        if (request.event.httpMethod === 'OPTIONS' || exempt(request.event)) return;
        // An unauthenticated request is refused by the handler (401); there is nobody to count it for.
        const sub = request.event.requestContext?.authorizer ? safeSub(request.event) : undefined;
        if (!sub) return;
        const state = await consumeRoute(counter(), limits(), sub, bucketOf(request.event.httpMethod));
        headersOf.set(request.event, routeLimitHeaders(state));
      },
    },
    decorate: { after: decorate, onError: decorate },
  };
}

function safeSub(event: APIGatewayProxyEvent): string | undefined {
  try {
    return callerOf(event).sub;
  } catch {
    return undefined;
  }
}
