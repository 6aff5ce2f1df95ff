/**
 * Builds the API Gateway REST API Lambda proxy event (payload format 1.0) for a local HTTP request, as API Gateway
 * does in the cloud: header and query maps in single- and multi-value form, decoded path parameters, the matched
 * resource, and the Lambda authorizer's context (flat strings) as `requestContext.authorizer`.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { RouteDefinition } from '../../lambdas/contracts/routes';

export interface LocalRequest {
  readonly method: string;
  /** Path and query as received, e.g. `/v1/conversations?limit=5`. */
  readonly url: string;
  /** Node's `rawHeaders`: names with their original case, alternating with values. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
}

export interface EventOptions {
  readonly route: RouteDefinition;
  readonly pathParameters: Record<string, string> | null;
  /** The Lambda authorizer's `principalId` and context; null for a public route. */
  readonly authorizer: Record<string, string> | null;
  readonly stage: string;
  readonly host: string;
  readonly requestId?: string;
  readonly now?: Date;
}

const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript)|[^;]*\+json)/i;

function formatRequestTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function multiMap(pairs: Iterable<[string, string]>): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    single[name] = value; // API Gateway keeps the last value in the single-value map
    multi[name] = [...(multi[name] ?? []), value];
  }
  return { single, multi };
}

function headerPairs(rawHeaders: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    const value = rawHeaders[i + 1];
    if (name !== undefined && value !== undefined) pairs.push([name, value]);
  }
  return pairs;
}

export function buildRestEvent(request: LocalRequest, options: EventOptions): APIGatewayProxyEvent {
  const now = options.now ?? new Date();
  const url = new URL(request.url, `http://${options.host}`);
  const headers = multiMap(headerPairs(request.rawHeaders));
  const query = multiMap(url.searchParams.entries());
  const hasQuery = Object.keys(query.single).length > 0;
  const contentType = request.rawHeaders.length
    ? (Object.entries(headers.single).find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '')
    : '';
  const isText = contentType === '' || TEXT_TYPES.test(contentType);
  const hasBody = request.body.length > 0;
  const requestId = options.requestId ?? randomUUID();
  const userAgent =
    Object.entries(headers.single).find(([name]) => name.toLowerCase() === 'user-agent')?.[1] ?? null;

  return {
    resource: options.route.path,
    path: url.pathname,
    httpMethod: request.method,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: hasQuery ? query.single : null,
    multiValueQueryStringParameters: hasQuery ? query.multi : null,
    pathParameters: options.pathParameters,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: options.authorizer,
      domainName: options.host,
      domainPrefix: options.host.split('.')[0] ?? options.host,
      extendedRequestId: requestId,
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${options.stage}${url.pathname}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: formatRequestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: options.route.path,
      stage: options.stage,
    },
    body: hasBody ? (isText ? request.body.toString('utf8') : request.body.toString('base64')) : null,
    isBase64Encoded: hasBody && !isText,
  };
}

/** Matches a request path against a route path with `{param}` placeholders; returns decoded parameters. */
export function matchPath(routePath: string, requestPath: string): Record<string, string> | undefined {
  const routeParts = routePath.split('/');
  const requestParts = requestPath.split('/');
  if (routeParts.length !== requestParts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < routeParts.length; i++) {
    const routePart = routeParts[i] ?? '';
    const requestPart = requestParts[i] ?? '';
    if (routePart.startsWith('{') && routePart.endsWith('}')) {
      if (requestPart === '') return undefined;
      try {
        params[routePart.slice(1, -1)] = decodeURIComponent(requestPart);
      } catch {
        return undefined;
      }
    } else if (routePart !== requestPart) {
      return undefined;
    }
  }
  return params;
}
