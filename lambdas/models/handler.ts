import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Model, ModelList } from '../contracts/api';
import type { ServedModel } from '../contracts/models';
import { callerOf } from '../shared/auth';
import { config } from '../shared/config';
import { apiMiddlewares, json } from '../shared/http';
import { modelCatalogOf, resolveModel } from './catalog';

/** `GET /v1/models` and `GET /v1/models/{id}`: the models this deployment serves, in OpenAI's shapes. */
const catalog = modelCatalogOf(config());
/** Fixed at deploy time: the models do not change while the function lives. */
const CREATED = Math.floor(Date.now() / 1000);

function modelOf(model: ServedModel): Model {
  return {
    id: model.id,
    object: 'model',
    created: CREATED,
    owned_by: 'chatstack',
    context_length: model.contextTokens,
  };
}

/** A path segment as the client meant it (SDKs encode `:` as `%3A`); a malformed escape is just an unknown id. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The models this deployment serves (also what a user's `default_model` is checked against). */
export function modelList(): ModelList {
  return { object: 'list', data: catalog.models.map(modelOf) };
}

export async function listModels(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  callerOf(event);
  const id = event.pathParameters?.id;
  if (id !== undefined) return json(event, 200, modelOf(resolveModel(catalog, decoded(id))));
  return json(event, 200, modelList());
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler(listModels);
