import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ApiKeyCreateRequest, ApiKeyId, type ApiKeyList } from '../contracts/api-keys';
import { EnvName } from '../contracts/env';
import { callerOf } from '../shared/auth';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { MethodNotAllowedError, NotFoundError, PermissionError } from '../shared/errors';
import { apiMiddlewares, json } from '../shared/http';
import { parseJsonBody } from '../validation';
import {
  type ApiKeyStoreDeps,
  apiKeyView,
  createApiKey,
  listApiKeys,
  NO_KEY_USAGE,
  revokeApiKey,
  usageToday,
} from './store';

/** `/v1/me/api-keys`: the caller's personal API keys — create (the secret is shown once), list, revoke. */
let deps: ApiKeyStoreDeps | undefined;
const storeDeps = () => {
  deps ??= { db: documentClient(), tableName: required(config().tableName, EnvName.tableName) };
  return deps;
};

/** A malformed id names no key of the caller's: the same 404 as someone else's id. */
function keyIdOf(event: APIGatewayProxyEvent): string {
  const parsed = ApiKeyId.safeParse(event.pathParameters?.id);
  if (!parsed.success) throw new NotFoundError('API key', 'id');
  return parsed.data;
}

async function route(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const caller = callerOf(event);
  // The authorizer already refuses keys here; this keeps the rule where the keys are made, too.
  if (caller.authMethod === 'api_key')
    throw new PermissionError('API keys cannot manage API keys: sign in to do that.');
  const hasId = event.pathParameters?.id !== undefined;
  if (!hasId && event.httpMethod === 'POST') {
    const request = parseJsonBody(event, ApiKeyCreateRequest);
    return json(event, 201, await createApiKey(storeDeps(), caller, request), {
      'cache-control': 'no-store',
    });
  }
  if (!hasId && event.httpMethod === 'GET') {
    const items = await listApiKeys(storeDeps(), caller.sub);
    const usage = await usageToday(
      storeDeps(),
      caller.sub,
      items.map((item) => item.keyId),
    );
    const body: ApiKeyList = {
      object: 'list',
      data: items.map((item) => ({
        ...apiKeyView(item),
        usage_today: usage.get(item.keyId) ?? NO_KEY_USAGE,
      })),
    };
    return json(event, 200, body);
  }
  if (hasId && event.httpMethod === 'DELETE') {
    const id = keyIdOf(event);
    await revokeApiKey(storeDeps(), caller.sub, id);
    return json(event, 200, { id, object: 'api_key.deleted', deleted: true });
  }
  throw new MethodNotAllowedError(event.httpMethod);
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler(route);
