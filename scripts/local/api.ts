/**
 * The local API: a thin HTTP adapter in front of the same handler modules that deploy to Lambda. For each request it
 * does what API Gateway REST does in the cloud — match a route from ROUTES, run the authorizer (the same module as
 * the cloud's Lambda authorizer: access tokens, API keys, scopes), build
 * the proxy event, invoke the handler (buffered, or streamed through the Lambda streaming prelude), write the result.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { authorizerContext } from '../../lambdas/authorizer';
import { CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_EXPOSE_HEADERS } from '../../lambdas/contracts/cors';
import { type FunctionName, ROUTES, type RouteDefinition } from '../../lambdas/contracts/routes';
import { createLocalAuthorizer } from './authorizer';
import { installLambdaRuntimeGlobals, isStreamingHandler, PRELUDE_DELIMITER } from './lambda-runtime';
import { buildRestEvent, matchPath } from './rest-event';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** The dev issuer whose access tokens the authorizer accepts. */
  readonly issuer: string;
  /** Origin allowed by CORS. */
  readonly webOrigin: string;
  /** Answers `GET /health`. */
  readonly health?: () => Promise<{ status: number; body: unknown }>;
  /** Loads a function's handler module. @default imports `lambdas/<fn>/handler.ts` */
  readonly loadHandler?: (fn: FunctionName) => Promise<unknown>;
  /** Function timeout for the Lambda context. @default 300 s for streaming routes, 29 s otherwise */
  readonly timeoutSeconds?: (route: RouteDefinition) => number;
}

export interface RunningApi {
  readonly url: string;
  close(): Promise<void>;
}

/** API Gateway's REST payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

const defaultLoadHandler = async (fn: FunctionName): Promise<unknown> =>
  ((await import(`../../lambdas/${fn}/handler.ts`)) as { handler?: unknown }).handler;

function errorBody(message: string, type: string, code: string | null) {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function lambdaContext(fn: FunctionName, requestId: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const functionName = `chatstack-local-${fn}`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The response stream handed to streaming handlers. Like API Gateway, it reads the prelude (JSON, then 8 NUL
 * bytes) written by `HttpResponseStream.from`, sends status and headers, then forwards every chunk as it comes.
 */
class LocalResponseStream extends Writable {
  private pending: Buffer | undefined = Buffer.alloc(0);

  constructor(
    private readonly res: ServerResponse,
    private readonly extraHeaders: Record<string, string>,
  ) {
    super();
  }

  setContentType(contentType: string): void {
    this.extraHeaders['content-type'] = contentType;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.pending === undefined) {
      this.forward(chunk, callback);
      return;
    }
    const buffered = Buffer.concat([this.pending, chunk]);
    const end = buffered.indexOf(PRELUDE_DELIMITER);
    if (end < 0) {
      this.pending = buffered;
      callback();
      return;
    }
    this.pending = undefined;
    let prelude: { statusCode?: number; headers?: Record<string, string>; cookies?: string[] };
    try {
      prelude = JSON.parse(buffered.subarray(0, end).toString('utf8'));
    } catch {
      callback(new Error('Malformed response streaming prelude'));
      return;
    }
    const headers: Record<string, string | string[]> = { ...this.extraHeaders, ...prelude.headers };
    if (prelude.cookies?.length) headers['set-cookie'] = prelude.cookies;
    this.res.writeHead(prelude.statusCode ?? 200, headers);
    this.res.flushHeaders();
    const rest = buffered.subarray(end + PRELUDE_DELIMITER.length);
    if (rest.length > 0) this.forward(rest, callback);
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.pending !== undefined && !this.res.headersSent) {
      // No prelude: API Gateway cannot map the response.
      this.res.writeHead(502, { 'content-type': 'application/json', ...this.extraHeaders });
      this.res.end(
        errorBody('Bad gateway: the function sent no response prelude.', 'server_error', 'bad_gateway'),
      );
    } else {
      this.res.end();
    }
    callback();
  }

  private forward(chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (this.res.write(chunk)) callback();
    else this.res.once('drain', () => callback());
  }
}

export async function startApiServer(options: ApiServerOptions): Promise<RunningApi> {
  installLambdaRuntimeGlobals();
  const authorize = createLocalAuthorizer(options.issuer);
  const loadHandler = options.loadHandler ?? defaultLoadHandler;
  const handlers = new Map<FunctionName, Promise<unknown>>();
  const corsHeaders = {
    'access-control-allow-origin': options.webOrigin,
    'access-control-expose-headers': CORS_EXPOSE_HEADERS.join(','),
  };

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...corsHeaders, ...headers });
    res.end(body);
  };

  async function invoke(route: RouteDefinition, event: APIGatewayProxyEvent, res: ServerResponse) {
    let handlerPromise = handlers.get(route.fn);
    if (!handlerPromise) {
      handlerPromise = loadHandler(route.fn);
      handlers.set(route.fn, handlerPromise);
    }
    const handler = await handlerPromise;
    if (typeof handler !== 'function') throw new Error(`lambdas/${route.fn}/handler.ts exports no handler`);
    const timeout = options.timeoutSeconds?.(route) ?? (route.streaming ? 300 : 29);
    const context = lambdaContext(route.fn, event.requestContext.requestId, timeout);

    if (isStreamingHandler(handler)) {
      // CORS headers of handler responses are the handler's own business (middy's http-cors), as behind API Gateway.
      const stream = new LocalResponseStream(res, {});
      // The client went away: the Lambda keeps running, but its writes now fail, as in the cloud.
      res.on('close', () => {
        if (!res.writableFinished) stream.destroy(new Error('Client disconnected'));
      });
      await handler(event, stream, context);
      if (!stream.writableFinished && !stream.destroyed) stream.end();
      return;
    }

    const result = (await (handler as (e: unknown, c: Context) => Promise<APIGatewayProxyResult>)(
      event,
      context,
    )) as APIGatewayProxyResult | undefined;
    if (!result || typeof result.statusCode !== 'number') throw new Error('Handler returned no proxy result');
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(result.headers ?? {}))
      headers[name.toLowerCase()] = String(value);
    for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
      headers[name.toLowerCase()] = values.map(String);
    }
    res.writeHead(result.statusCode, headers);
    res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://local');

    if (method === 'GET' && url.pathname === '/health' && options.health) {
      const health = await options.health();
      send(res, health.status, JSON.stringify(health.body));
      return;
    }

    const pathRoutes = ROUTES.filter((route) => matchPath(route.path, url.pathname));
    if (method === 'OPTIONS' && pathRoutes.length > 0) {
      res.writeHead(204, {
        ...corsHeaders,
        'access-control-allow-methods': CORS_ALLOW_METHODS.join(','),
        'access-control-allow-headers': CORS_ALLOW_HEADERS.join(','),
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const route = pathRoutes.find((candidate) => candidate.method === method);
    if (!route) {
      send(
        res,
        404,
        errorBody(`Unknown request URL: ${method} ${url.pathname}.`, 'invalid_request_error', 'unknown_url'),
      );
      return;
    }

    const requestId = randomUUID();
    let authorizer: Record<string, string> | null = null;
    if (route.scopes.length > 0) {
      const decision = await authorize({
        authorization: req.headers.authorization,
        method,
        resource: route.path,
        requestId,
      });
      if (!decision.ok) {
        // What the gateway responses in lib/constructs/chat-api.ts answer.
        const type = decision.status === 401 ? 'authentication_error' : 'permission_error';
        const code =
          decision.status === 401
            ? 'invalid_token'
            : decision.reason === 'account_suspended'
              ? 'account_suspended'
              : 'insufficient_scope';
        send(res, decision.status, errorBody(decision.message, type, code), {
          'www-authenticate': `Bearer error="${code}"`,
          'x-request-id': requestId,
        });
        return;
      }
      authorizer = { principalId: decision.identity.sub, ...authorizerContext(decision.identity) };
    }

    const body = await readBody(req);
    if (body === undefined) {
      send(res, 413, errorBody('Request body too large.', 'invalid_request_error', 'request_too_large'));
      return;
    }
    const event = buildRestEvent(
      {
        method,
        url: req.url ?? '/',
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      },
      {
        route,
        pathParameters: matchPath(route.path, url.pathname) ?? null,
        authorizer,
        stage: 'local',
        host: req.headers.host ?? `${options.host}:${options.port}`,
        requestId,
      },
    );
    await invoke(route, event, res);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // What API Gateway answers when the integration fails.
      console.error(JSON.stringify({ level: 'ERROR', message: 'integration failed', error: String(error) }));
      if (!res.headersSent) send(res, 502, errorBody('Bad gateway.', 'server_error', 'bad_gateway'));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
