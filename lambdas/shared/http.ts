import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MiddlewareObj, Request } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CORS_EXPOSE_HEADERS } from '../contracts/cors';
import { MetricDimension, MetricName } from '../contracts/metrics';
import { memoryRouteCounter, type RouteCounter, type RouteLimits } from '../quota/route-limit';
import { config } from './config';
import { toApiError } from './errors';
import { logger, metrics } from './powertools';
import { type RouteLimitMode, routeLimitMiddlewares, sharedTableRouteCounter } from './route-limit';

export type ApiRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult>;

/** Headers every response carries, errors included. */
export function baseHeaders(event: APIGatewayProxyEvent): Record<string, string> {
  return { 'x-request-id': event.requestContext.requestId };
}

/** A JSON response with the base headers. */
export function json(
  event: APIGatewayProxyEvent,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...baseHeaders(event), ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * The one error mapping: typed domain errors become their status and OpenAI error object; anything else is
 * logged with its stack and answered with an opaque 500. Registered early, so it runs late on the way out.
 */
export function openAiErrors(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: (request) => {
      if (request.response?.statusCode && request.error === undefined) return;
      const apiError = toApiError(request.error);
      if (apiError.statusCode >= 500) {
        logger.error('request failed', { error: request.error as Error });
      } else {
        logger.info('request rejected', {
          status: apiError.statusCode,
          code: apiError.code,
          param: apiError.param,
        });
      }
      const errorMetric = metrics.singleMetric();
      errorMetric.addDimension(MetricDimension.errorKind, errorKind(apiError.statusCode, apiError.code));
      errorMetric.addMetric(MetricName.errors, MetricUnit.Count, 1);
      request.response = json(request.event, apiError.statusCode, apiError.toBody(), { ...apiError.headers });
    },
  };
}

function errorKind(status: number, code: string | null): string {
  if (code === 'content_filter') return 'moderation';
  if (status === 429) return 'quota';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500)
    return code === 'model_unavailable' || code === 'model_overloaded' ? 'inference' : 'internal';
  return 'validation';
}

/**
 * Counts every API request once (`Requests`), errors included, so each invocation publishes at least one metric
 * and the count means the same for every endpoint. Runs first on the way in.
 */
export function countRequests(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: () => {
      metrics.addMetric(MetricName.requests, MetricUnit.Count, 1);
    },
  };
}

export interface ApiMiddlewareOptions {
  /**
   * How the route is limited per user: `table` (default) the shared read/write buckets in the table; `memory` a
   * per-container window for a function that writes nothing to the table; `own` a handler whose admission is its
   * limit and sets the headers itself (chat).
   * @default 'table'
   */
  readonly routeLimit?: RouteLimitMode;
  /**
   * With `own`: which requests the handler's admission limits; its other routes count on the table's buckets.
   * @default every request
   */
  readonly ownAdmission?: (event: APIGatewayProxyEvent) => boolean;
  /** @default the configured per-user reads and writes per minute */
  readonly routeLimits?: RouteLimits;
}

/** The house middleware chain for API handlers: `middy().use(apiMiddlewares()).handler(fn)`. */
export function apiMiddlewares(
  options: ApiMiddlewareOptions = {},
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>[] {
  // middy runs `onError` in reverse order of registration: CORS is registered first so that it decorates the error
  // response the mapping below produces — a browser must be able to read a 429 or a content-filter error.
  // WEB_ORIGIN lists every allowed origin (comma-separated): the request's own is echoed when it is one of them,
  // and every answer says it varies by Origin, so no cache hands one origin's answer to another.
  const origins = config()
    .webOrigin.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  const cors = {
    origins,
    credentials: false,
    exposeHeaders: CORS_EXPOSE_HEADERS.join(', '),
    // middy adds `Vary: Origin` itself when there are several origins. (`vary` is a runtime option of
    // @middy/http-cors that its type definitions leave out.)
    vary: origins.length > 1 ? undefined : 'Origin',
  };
  const mode = options.routeLimit ?? 'table';
  let memory: RouteCounter | undefined;
  const limits =
    mode === 'own' && !options.ownAdmission
      ? undefined
      : routeLimitMiddlewares(
          mode === 'memory' ? () => (memory ??= memoryRouteCounter()) : sharedTableRouteCounter,
          options.routeLimits ? () => options.routeLimits as RouteLimits : undefined,
          mode === 'own' ? options.ownAdmission : undefined,
        );
  return [
    httpCors(cors),
    ...(limits ? [limits.decorate] : []),
    openAiErrors(),
    injectLambdaContext(logger, { correlationIdPath: 'requestContext.requestId', resetKeys: true }),
    logMetrics(metrics),
    countRequests(),
    httpHeaderNormalizer(),
    ...(limits ? [limits.count] : []),
  ];
}
