import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { EnvName } from '../contracts/env';
import { MetricName } from '../contracts/metrics';
import { callerOf } from '../shared/auth';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { apiMiddlewares, json } from '../shared/http';
import { logger, metrics } from '../shared/powertools';
import { type WindowCounter, windowCounter } from './rate-limit';
import { bodyText, parseReport, sanitizeReport } from './report';

/** Reports per user per minute: enough for a burst from a broken page, not enough to flood the logs. */
export const CLIENT_ERRORS_PER_MINUTE = 30;

let counter: WindowCounter | undefined;
function rateLimit(): WindowCounter {
  counter ??= windowCounter(documentClient(), required(config().tableName, EnvName.tableName), {
    name: 'client-errors',
    limit: CLIENT_ERRORS_PER_MINUTE,
    windowSeconds: 60,
  });
  return counter;
}

/** POST /v1/client-errors: validates, rate-limits and scrubs a web app error report, then logs and counts it. */
async function reportClientError(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const caller = callerOf(event);
  const report = parseReport(bodyText(event.body, event.isBase64Encoded));
  await rateLimit().consume(caller.sub);

  const clientError = sanitizeReport(report);
  // The user's id is left out on purpose: the request id and client id are enough to correlate.
  logger.warn('client error reported', { clientError, clientId: caller.clientId });
  metrics.addMetric(MetricName.clientErrors, MetricUnit.Count, 1);
  metrics.addMetadata('kind', report.kind);
  return json(event, 202, { accepted: true, id: event.requestContext.requestId });
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler(reportClientError);
