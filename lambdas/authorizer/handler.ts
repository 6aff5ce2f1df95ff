import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { logger } from '../shared/powertools';
import { authorizerDeps, authorizerSettingsFromEnv } from './deps';
import { authorize } from './index';
import { authorizerResult } from './policy';

/**
 * API Gateway's Lambda REQUEST authorizer (identity source: the Authorization header): the authorizer module
 * decides, ./policy turns the decision into the policy API Gateway caches.
 */
const deps = authorizerDeps(authorizerSettingsFromEnv());

function headerOf(headers: APIGatewayRequestAuthorizerEvent['headers'], name: string): string | undefined {
  const entry = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return entry?.[1] ?? undefined;
}

async function authorizeRequest(
  event: APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewayAuthorizerResult> {
  const decision = await authorize(deps, {
    authorization: headerOf(event.headers, 'authorization'),
    method: event.httpMethod,
    resource: event.resource,
    requestId: event.requestContext.requestId,
  });
  return authorizerResult(decision, event.methodArn);
}

export const handler = middy<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>()
  .use(injectLambdaContext(logger, { correlationIdPath: 'requestContext.requestId', resetKeys: true }))
  .handler(authorizeRequest);
