import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureEmf, type EmfCapture } from '../../helpers/emf';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

let handler: Handler;
let emf: EmfCapture;

const context = {
  functionName: 'client-errors',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:client-errors',
  memoryLimitInMB: '256',
  awsRequestId: 'lambda-request-1',
  logGroupName: '/aws/lambda/client-errors',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

let requestCounter = 0;
function event(body: unknown, sub = 'user-1'): APIGatewayProxyEvent {
  requestCounter += 1;
  return {
    resource: '/v1/client-errors',
    path: '/v1/client-errors',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: 'https://chat.example.com' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    isBase64Encoded: false,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    requestContext: {
      requestId: `req-${requestCounter}`,
      authorizer: { claims: { sub, scope: 'chat:read chat:write', client_id: 'web' } },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

beforeAll(async () => {
  // No table and no DynamoDB endpoint: the function writes nothing to the table, its limit included.
  delete process.env.TABLE_NAME;
  Object.assign(process.env, { AWS_REGION: 'us-east-1', POWERTOOLS_SERVICE_NAME: 'client-errors' });
  ({ handler } = (await import('../../../lambdas/client-errors/handler')) as unknown as { handler: Handler });
});

beforeEach(() => {
  emf = captureEmf();
});
afterEach(() => emf.restore());

describe('POST /v1/client-errors', () => {
  it('accepts a report with 202 and emits the ClientErrors metric', async () => {
    const response = await handler(
      event({ kind: 'uncaught', message: 'TypeError: x is undefined' }),
      context,
    );

    expect(response.statusCode).toBe(202);
    expect(response.headers?.['x-ratelimit-limit-requests']).toBe('30');
    expect(response.headers?.['x-ratelimit-remaining-requests']).toBe('29');
    const [line] = emf.linesWith('ClientErrors');
    expect(line?.ClientErrors).toBe(1);
    expect(line?._aws.CloudWatchMetrics[0]?.Namespace).toBe('Chatstack');
    expect(line?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(line?.service).toBe('client-errors');
  });

  it('logs the report scrubbed and with its stack truncated', async () => {
    const stack = [
      'Error: failed for ann@example.com',
      ...Array.from(
        { length: 60 },
        (_, i) => `    at f${i} (https://chat.example.com/app.js?session=s3cr3t:${i}:1)`,
      ),
    ].join('\n');

    await handler(event({ kind: 'uncaught', message: 'failed for ann@example.com', stack }), context);

    const logged = emf.otherOutput().join('\n');
    expect(logged).toContain('client error reported');
    expect(logged).toContain('[email]');
    expect(logged).toContain('[truncated');
    expect(logged).not.toContain('ann@example.com');
    expect(logged).not.toContain('s3cr3t');
  });

  it('answers 400 naming the invalid field and does not count a client error', async () => {
    const response = await handler(event({ kind: 'sideways', message: 'x' }), context);

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      error: { type: 'invalid_request_error', param: 'kind' },
    });
    expect(emf.linesWith('ClientErrors')).toHaveLength(0);
  });

  it('answers 413 for a report over the size cap', async () => {
    const response = await handler(event({ kind: 'uncaught', message: 'x'.repeat(9000) }), context);

    expect(response.statusCode).toBe(413);
  });

  describe('within one minute', () => {
    // Only the clock is faked (the counter's window comes from Date.now); I/O timers stay real.
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-23T17:00:10.000Z'));
    });
    afterEach(() => vi.useRealTimers());

    it('accepts 30 reports from one user, then answers 429 with retry-after', async () => {
      const statuses: number[] = [];
      let last: APIGatewayProxyResult | undefined;
      for (let i = 0; i < 31; i += 1) {
        last = await handler(event({ kind: 'request', message: 'boom' }, 'noisy-user'), context);
        statuses.push(last.statusCode);
      }

      expect(statuses.slice(0, 30).every((status) => status === 202)).toBe(true);
      expect(last?.statusCode).toBe(429);
      expect(last?.headers?.['retry-after']).toBe('50');
      expect(last?.headers?.['x-ratelimit-remaining-requests']).toBe('0');
      expect(JSON.parse(last?.body ?? '{}')).toMatchObject({ error: { type: 'rate_limit_error' } });
    });

    it('keeps counting other users separately', async () => {
      for (let i = 0; i < 31; i += 1)
        await handler(event({ kind: 'request', message: 'boom' }, 'burst-user'), context);

      const other = await handler(event({ kind: 'request', message: 'boom' }, 'quiet-user'), context);

      expect(other.statusCode).toBe(202);
    });
  });
});
