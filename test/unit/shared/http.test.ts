import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../../lambdas/shared/errors';
import { apiMiddlewares, json } from '../../../lambdas/shared/http';

const event = {
  httpMethod: 'GET',
  path: '/v1/models',
  resource: '/v1/models',
  headers: { Origin: 'http://localhost:5173' },
  multiValueHeaders: {},
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  pathParameters: null,
  stageVariables: null,
  body: null,
  isBase64Encoded: false,
  requestContext: { requestId: 'req-1' },
} as unknown as APIGatewayProxyEvent;

const context = {
  functionName: 'chat',
  functionVersion: '1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:chat',
  memoryLimitInMB: '128',
  awsRequestId: 'aws-req-1',
  getRemainingTimeInMillis: () => 1000,
} as unknown as Context;

/** Everything the invocation wrote to stdout/stderr (logs, EMF metric lines, warnings). */
async function invoke(fn: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>) {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  const warn = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => capture(args.join(' ')));
  try {
    const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().use(apiMiddlewares()).handler(fn);
    const response = await handler(structuredClone(event), context);
    return { response, output: lines.join('\n') };
  } finally {
    out.mockRestore();
    err.mockRestore();
    warn.mockRestore();
  }
}

const requestCounts = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => (JSON.parse(line) as { Requests?: number }).Requests ?? 0)
    .reduce((sum, value) => sum + value, 0);

afterEach(() => vi.restoreAllMocks());

describe('API middleware chain', () => {
  it('counts a successful request once, without the empty-metrics warning', async () => {
    const { response, output } = await invoke(async (request) => json(request, 200, { ok: true }));
    expect(response.statusCode).toBe(200);
    expect(requestCounts(output)).toBe(1);
    expect(output).not.toContain('No application metrics to publish');
  });

  it('counts a rejected request once too', async () => {
    const { response, output } = await invoke(async () => {
      throw new NotFoundError('Conversation', 'id');
    });
    expect(response.statusCode).toBe(404);
    expect(requestCounts(output)).toBe(1);
  });
});
