import { type JsonSchema, JsonSchemaType, JsonSchemaVersion } from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';
import {
  ConversationPatch,
  chatCompletionRequestSchema,
  UserSettingsUpdate,
} from '../../lambdas/contracts/api';
import { ApiKeyCreateRequest } from '../../lambdas/contracts/api-keys';
import { FeedbackRequest } from '../../lambdas/contracts/feedback';
import { responseCreateRequestSchema } from '../../lambdas/contracts/responses';
import type { RouteDefinition } from '../../lambdas/contracts/routes';

/**
 * API Gateway request models derived from the zod schemas in `lambdas/contracts/api.ts`, so the gateway rejects
 * malformed bodies with the same rules the handlers apply (the handlers still validate: defence in depth).
 */

/** The zod schema of each route's JSON body, keyed `METHOD path`. Routes without a body have none. */
export function requestBodySchemas(maxCompletionTokens: number): Readonly<Record<string, z.ZodType>> {
  return {
    'POST /v1/chat/completions': chatCompletionRequestSchema(maxCompletionTokens),
    'POST /v1/responses': responseCreateRequestSchema(maxCompletionTokens),
    'PATCH /v1/conversations/{id}': ConversationPatch,
    'POST /v1/me/api-keys': ApiKeyCreateRequest,
    'POST /v1/conversations/{id}/messages/{message_id}/feedback': FeedbackRequest,
    'PUT /v1/me/settings': UserSettingsUpdate,
  };
}

export function routeKey(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

const TYPES: Readonly<Record<string, JsonSchemaType>> = {
  null: JsonSchemaType.NULL,
  boolean: JsonSchemaType.BOOLEAN,
  object: JsonSchemaType.OBJECT,
  array: JsonSchemaType.ARRAY,
  number: JsonSchemaType.NUMBER,
  integer: JsonSchemaType.INTEGER,
  string: JsonSchemaType.STRING,
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOf(value: Json): JsonSchemaType | JsonSchemaType[] {
  const one = (name: Json): JsonSchemaType => {
    const type = typeof name === 'string' ? TYPES[name] : undefined;
    if (type === undefined) throw new Error(`Unsupported JSON schema type ${JSON.stringify(name)}`);
    return type;
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

function num(value: Json, key: string): number {
  if (typeof value !== 'number') throw new Error(`JSON schema keyword ${key} must be a number`);
  return value;
}

function str(value: Json, key: string): string {
  if (typeof value !== 'string') throw new Error(`JSON schema keyword ${key} must be a string`);
  return value;
}

function list(value: Json, key: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`JSON schema keyword ${key} must be an array`);
  return value;
}

/** Converts a draft-4 JSON schema document into CDK's `JsonSchema`; unknown keywords fail loudly. */
export function toApiGatewaySchema(document: unknown): JsonSchema {
  if (!isObject(document)) throw new Error('A JSON schema must be an object');
  const schema: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) {
    switch (key) {
      case '$schema':
        schema.schema = JsonSchemaVersion.DRAFT4;
        break;
      case 'type':
        schema.type = typeOf(value);
        break;
      case 'properties':
        if (!isObject(value)) throw new Error('properties must be an object');
        schema.properties = Object.fromEntries(
          Object.entries(value).map(([name, property]) => [name, toApiGatewaySchema(property)]),
        );
        break;
      case 'items':
        schema.items = Array.isArray(value) ? value.map(toApiGatewaySchema) : toApiGatewaySchema(value);
        break;
      case 'additionalProperties':
        schema.additionalProperties = typeof value === 'boolean' ? value : toApiGatewaySchema(value);
        break;
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
        schema[key] = list(value, key).map(toApiGatewaySchema);
        break;
      case 'not':
        schema.not = toApiGatewaySchema(value);
        break;
      case 'required':
        schema.required = list(value, key).map((name) => str(name, key));
        break;
      case 'enum':
        schema.enum = list(value, key);
        break;
      case 'minimum':
      case 'maximum':
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
      case 'multipleOf':
      case 'minProperties':
      case 'maxProperties':
        schema[key] = num(value, key);
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
      case 'uniqueItems':
        if (typeof value !== 'boolean')
          throw new Error(`JSON schema keyword ${key} must be a boolean (draft 4)`);
        schema[key] = value;
        break;
      case 'pattern':
      case 'format':
      case 'title':
      case 'description':
        schema[key] = str(value, key);
        break;
      case 'default':
        schema.default = value;
        break;
      default:
        throw new Error(`JSON schema keyword "${key}" has no API Gateway model equivalent`);
    }
  }
  return schema as JsonSchema;
}

/** The API Gateway model schema of a zod schema: draft 4, request (input) side, every definition inlined. */
export function apiGatewayModelSchema(schema: z.ZodType): JsonSchema {
  // An empty registry keeps schemas with an `id` inline: API Gateway models cannot hold local $refs to $defs.
  const document = z.toJSONSchema(schema, {
    target: 'draft-4',
    io: 'input',
    metadata: z.registry(),
    unrepresentable: 'throw',
  });
  return toApiGatewaySchema(document);
}
