import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROUTES } from '../../../lambdas/contracts/routes';
import {
  apiGatewayModelSchema,
  requestBodySchemas,
  routeKey,
  toApiGatewaySchema,
} from '../../../lib/constructs/request-models';

describe('API Gateway request models from the zod schemas', () => {
  it('derives the chat request model with the configured token ceiling', () => {
    const schema = requestBodySchemas(2048)['POST /v1/chat/completions'];
    if (!schema) throw new Error('no chat schema');
    const model = apiGatewayModelSchema(schema);
    expect(model).toMatchObject({
      schema: 'http://json-schema.org/draft-04/schema#',
      type: 'object',
      required: ['messages'],
      additionalProperties: false,
      properties: {
        messages: { type: 'array', maxItems: 50 },
        max_completion_tokens: { anyOf: [{ type: 'integer', minimum: 1, maximum: 2048 }, { type: 'null' }] },
      },
    });
  });

  it('inlines shared definitions: API Gateway models cannot hold local $refs', () => {
    const schema = requestBodySchemas(4096)['POST /v1/chat/completions'];
    if (!schema) throw new Error('no chat schema');
    expect(JSON.stringify(apiGatewayModelSchema(schema))).not.toMatch(/\$ref|\$defs|definitions/);
  });

  it('only names routes that exist', () => {
    const routeKeys = new Set(ROUTES.map(routeKey));
    for (const key of Object.keys(requestBodySchemas(4096))) expect(routeKeys).toContain(key);
  });

  it('fails loudly on a keyword API Gateway cannot check', () => {
    expect(() => toApiGatewaySchema({ type: 'string', contentMediaType: 'text/plain' })).toThrow(
      /contentMediaType/,
    );
  });

  it('keeps draft-4 boolean exclusive bounds', () => {
    const model = apiGatewayModelSchema(z.object({ temperature: z.number().gt(0).lt(2) }));
    expect(model.properties?.temperature).toMatchObject({
      minimum: 0,
      exclusiveMinimum: true,
      maximum: 2,
      exclusiveMaximum: true,
    });
  });
});
