/**
 * The real API handlers in this process, against the local stack's table, each user with a `sub` of its own: the
 * limits tests can exhaust a user's buckets without touching the users the other test files share.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { EnvName } from '../../../lambdas/contracts/env';
import { keys } from '../../../lambdas/contracts/keys';
import { ROUTES } from '../../../lambdas/contracts/routes';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { buildRestEvent, matchPath } from '../../../scripts/local/rest-event';
import { stack } from '../setup/context';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The environment a handler process gets locally, pointed at the shared stack, with `overrides` on top. */
export function useStackEnvironment(overrides: Record<string, string> = {}): void {
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    [EnvName.tableName]: LOCAL_TABLE_NAME,
    [EnvName.dynamodbEndpoint]: stack().dynamodb,
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...overrides,
  });
}

export const lambdaContext = {
  functionName: 'local',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:local',
  memoryLimitInMB: '512',
  awsRequestId: 'local',
  logGroupName: '/aws/lambda/local',
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 29_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

/** The REST proxy event API Gateway would hand the route's function for `sub`'s request. */
export function apiEvent(sub: string, method: string, url: string, body?: unknown): APIGatewayProxyEvent {
  const pathname = new URL(url, 'http://local').pathname;
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const pathParameters = matchPath(route.path, pathname);
    if (pathParameters === undefined) continue;
    return buildRestEvent(
      {
        method,
        url,
        rawHeaders: ['content-type', 'application/json'],
        body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
        sourceIp: '127.0.0.1',
      },
      {
        route,
        pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
        authorizer: { principalId: sub, sub, scope: 'chat:read chat:write', auth_method: 'oauth' },
        stage: 'v1',
        host: 'localhost',
      },
    );
  }
  throw new Error(`no route for ${method} ${url}`);
}

/** The items of `sub`'s partition whose sort key starts with `prefix` (one page: tests keep them few). */
export async function itemsWithPrefix(
  db: DynamoDBDocumentClient,
  sub: string,
  prefix: string,
): Promise<Record<string, unknown>[]> {
  const page = await db.send(
    new QueryCommand({
      TableName: LOCAL_TABLE_NAME,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.userPartition(sub), ':prefix': prefix },
      ConsistentRead: true,
    }),
  );
  return page.Items ?? [];
}
