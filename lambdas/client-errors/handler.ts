import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { MetricName } from '../contracts/metrics';
import { callerOf } from '../shared/auth';
import { apiMiddlewares, json } from '../shared/http';
import { logger, metrics } from '../shared/powertools';
import { bodyText, parseReport, sanitizeReport } from './report';

/** Reports per user per minute: enough for a burst from a broken page, not enough to flood the logs. */
export const CLIENT_ERRORS_PER_MINUTE = 30;

/** POST /v1/client-errors: validates, rate-limits and scrubs a web app error report, then logs and counts it. */
async function reportClientError(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const caller = callerOf(event);
  const report = parseReport(bodyText(event.body, event.isBase64Encoded));

  const clientError = sanitizeReport(report);
  // The user's id is left out on purpose: the request id and client id are enough to correlate.
  logger.warn('client error reported', { clientError, clientId: caller.clientId });
  metrics.addMetric(MetricName.clientErrors, MetricUnit.Count, 1);
  metrics.addMetadata('kind', report.kind);
  return json(event, 202, { accepted: true, id: event.requestContext.requestId });
}

// Writes nothing to the table: a report is a log line, and a table counter would cost one write per report and
// give this function write access to every user's partition. Its per-user window lives in the container's
// memory (a bound per warm container); the route's hard bound is API Gateway's method throttle and the WAF's
// per-IP rule, both in front of the function.
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(
    apiMiddlewares({
      routeLimit: 'memory',
      routeLimits: { readsPerMinute: CLIENT_ERRORS_PER_MINUTE, writesPerMinute: CLIENT_ERRORS_PER_MINUTE },
    }),
  )
  .handler(reportClientError);
