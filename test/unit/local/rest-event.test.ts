import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lambdas/contracts/routes';
import { buildRestEvent, matchPath } from '../../../scripts/local/rest-event';

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/events/apigw-rest-proxy.json', import.meta.url), 'utf8'),
) as APIGatewayProxyEvent;

/** The structure of a value: object keys (sorted) down to the type of each leaf. */
function shape(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((key) => [key, shape((value as Record<string, unknown>)[key])]),
    );
  }
  return typeof value;
}

const patchRoute = ROUTES.find(
  (route) => route.method === 'PATCH' && route.path === '/v1/conversations/{id}',
);

function sampleEvent(): APIGatewayProxyEvent {
  if (!patchRoute) throw new Error('route missing');
  const headers = fixture.multiValueHeaders;
  const rawHeaders = Object.entries(headers).flatMap(([name, values]) =>
    (values ?? []).flatMap((v) => [name, v]),
  );
  return buildRestEvent(
    {
      method: 'PATCH',
      url: '/v1/conversations/c-123?include=messages&tag=a&tag=b',
      rawHeaders,
      body: Buffer.from(fixture.body ?? ''),
      sourceIp: '203.0.113.7',
    },
    {
      route: patchRoute,
      pathParameters: matchPath(patchRoute.path, '/v1/conversations/c-123') ?? null,
      authorizer: fixture.requestContext.authorizer as Record<string, string>,
      stage: 'prod',
      host: 'abc123.execute-api.us-east-1.amazonaws.com',
      requestId: fixture.requestContext.requestId,
      now: new Date(fixture.requestContext.requestTimeEpoch),
    },
  );
}

describe('the local adapter builds API Gateway REST proxy events', () => {
  it('has exactly the shape of a real REST proxy event', () => {
    expect(shape(sampleEvent())).toEqual(shape(fixture));
  });

  it('carries the request as API Gateway would', () => {
    const event = sampleEvent();
    expect(event).toMatchObject({
      resource: fixture.resource,
      path: fixture.path,
      httpMethod: 'PATCH',
      headers: fixture.headers,
      multiValueHeaders: fixture.multiValueHeaders,
      queryStringParameters: fixture.queryStringParameters,
      multiValueQueryStringParameters: fixture.multiValueQueryStringParameters,
      pathParameters: fixture.pathParameters,
      body: fixture.body,
      isBase64Encoded: false,
    });
    expect(event.requestContext).toMatchObject({
      authorizer: fixture.requestContext.authorizer,
      path: fixture.requestContext.path,
      requestTime: fixture.requestContext.requestTime,
      resourcePath: fixture.requestContext.resourcePath,
      stage: 'prod',
      identity: { sourceIp: '203.0.113.7', userAgent: 'OpenAI/JS 6.49.0' },
    });
  });

  it('sends no query maps, no body and no authorizer when there are none', () => {
    const route = ROUTES.find((candidate) => candidate.path === '/v1/models');
    if (!route) throw new Error('route missing');
    const event = buildRestEvent(
      { method: 'GET', url: '/v1/models', rawHeaders: [], body: Buffer.alloc(0), sourceIp: '127.0.0.1' },
      { route, pathParameters: null, authorizer: null, stage: 'local', host: '127.0.0.1:3000' },
    );
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
    expect(event.body).toBeNull();
    expect(event.requestContext.authorizer).toBeNull();
  });

  it('base64-encodes binary bodies', () => {
    const route = ROUTES[0];
    if (!route) throw new Error('route missing');
    const bytes = Buffer.from([0, 255, 1, 254]);
    const event = buildRestEvent(
      {
        method: 'POST',
        url: route.path,
        rawHeaders: ['Content-Type', 'application/octet-stream'],
        body: bytes,
        sourceIp: '127.0.0.1',
      },
      { route, pathParameters: null, authorizer: null, stage: 'local', host: '127.0.0.1:3000' },
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(bytes);
  });
});

describe('route matching', () => {
  it('decodes path parameters', () => {
    expect(matchPath('/v1/conversations/{id}', '/v1/conversations/a%20b')).toEqual({ id: 'a b' });
  });

  it('rejects other paths, empty parameters and malformed escapes', () => {
    expect(matchPath('/v1/conversations/{id}', '/v1/conversations')).toBeUndefined();
    expect(matchPath('/v1/conversations/{id}', '/v1/conversations/')).toBeUndefined();
    expect(matchPath('/v1/conversations/{id}', '/v1/conversations/%E0%A4%A')).toBeUndefined();
    expect(matchPath('/v1/models', '/v1/models/x')).toBeUndefined();
  });
});
