import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ModelList } from '../contracts/api';
import { callerOf } from '../shared/auth';
import { config } from '../shared/config';
import { apiMiddlewares, json } from '../shared/http';

/** `GET /v1/models`: the one model this deployment serves, in the OpenAI list shape. */
const cfg = config();
/** Fixed at deploy time: the model's id does not change while the function lives. */
const CREATED = Math.floor(Date.now() / 1000);

/** The models this deployment serves (also what a user's `default_model` is checked against). */
export function modelList(): ModelList {
  return {
    object: 'list',
    data: [{ id: cfg.modelId, object: 'model', created: CREATED, owned_by: 'chatstack' }],
  };
}

export async function listModels(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  callerOf(event);
  return json(event, 200, modelList());
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler(listModels);
