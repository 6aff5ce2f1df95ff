import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import dynalite from 'dynalite';
import type { ChatDeps } from '../../../lambdas/chat/pipeline';
import { DEFAULT_LIMITS } from '../../../lambdas/chat/prepare';
import { TABLE } from '../../../lambdas/contracts/table';
import { CircuitBreakers } from '../../../lambdas/inference';
import { createModeration, defaultModerationConfig } from '../../../lambdas/moderation';
import { createTableInput } from '../../../scripts/local/emulators';
import { installLambdaRuntimeGlobals, PRELUDE_DELIMITER } from '../../../scripts/local/lambda-runtime';
import { startSageMakerRuntime } from '../../../scripts/local/sagemaker-runtime';
import { type FakeBehaviour, type FakeModel, startFakeModel } from '../inference/fake-model';

export const TABLE_NAME = 'chatstack-test';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface TestTable {
  readonly endpoint: string;
  readonly db: DynamoDBDocumentClient;
  readonly raw: DynamoDBClient;
  close(): Promise<void>;
}

/** An in-memory DynamoDB (dynalite) with the single table created from its shared definition. */
export async function startTable(): Promise<TestTable> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await raw.send(new CreateTableCommand(createTableInput(TABLE, TABLE_NAME)));
  const db = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return {
    endpoint,
    db,
    raw,
    close: async () => {
      raw.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export interface EventInit {
  readonly method: string;
  readonly resource: string;
  readonly path: string;
  readonly sub?: string;
  readonly body?: string | null;
  readonly headers?: Record<string, string>;
  readonly pathParameters?: Record<string, string> | null;
  readonly query?: Record<string, string> | null;
}

/** An API Gateway REST (v1) proxy event as the Cognito authorizer leaves it. */
export function apiEvent(init: EventInit): APIGatewayProxyEvent {
  const sub = init.sub ?? 'user-a';
  return {
    resource: init.resource,
    path: init.path,
    httpMethod: init.method,
    headers: { 'content-type': 'application/json', ...init.headers },
    multiValueHeaders: {},
    queryStringParameters: init.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: init.pathParameters ?? null,
    stageVariables: null,
    body: init.body ?? null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      authorizer: { claims: { sub, scope: 'chat:read chat:write', client_id: `client-${sub}` } },
      protocol: 'HTTP/1.1',
      httpMethod: init.method,
      identity: {} as APIGatewayProxyEvent['requestContext']['identity'],
      path: init.path,
      stage: 'v1',
      requestId: crypto.randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'test',
      resourcePath: init.resource,
    },
  };
}

export function lambdaContext(remainingMs = 300_000): Context {
  const endsAt = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'chat',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:chat',
    memoryLimitInMB: '1024',
    awsRequestId: crypto.randomUUID(),
    logGroupName: '/aws/lambda/chat',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, endsAt - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface StreamedResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

type StreamingHandler = (event: unknown, stream: Writable, context: Context) => Promise<unknown>;

/**
 * Invokes a response-streaming handler as the Lambda runtime does and reads what it wrote: the JSON prelude,
 * 8 NUL bytes, then the body. `onChunk` sees body text as it arrives (e.g. to disconnect mid-stream).
 */
export async function invokeStreaming(
  handler: unknown,
  event: APIGatewayProxyEvent,
  onChunk?: (text: string, stream: Writable) => void,
  options: { readonly remainingMs?: number } = {},
): Promise<StreamedResponse> {
  const chunks: Buffer[] = [];
  let preludeDone = false;
  let prelude = Buffer.alloc(0);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!preludeDone) {
        prelude = Buffer.concat([prelude, chunk]);
        const at = prelude.indexOf(PRELUDE_DELIMITER);
        if (at >= 0) {
          preludeDone = true;
          const rest = prelude.subarray(at + PRELUDE_DELIMITER.length);
          prelude = prelude.subarray(0, at);
          if (rest.length > 0) chunks.push(rest);
        }
      } else {
        chunks.push(chunk);
        onChunk?.(chunk.toString('utf8'), sink);
      }
      callback();
    },
  });
  try {
    await (handler as StreamingHandler)(event, sink, lambdaContext(options.remainingMs));
  } catch (error) {
    // Only a disconnect the test made itself may reject the pipeline; any other failure is the handler's crash.
    if (!sink.destroyed) throw error;
  }
  if (!preludeDone) throw new Error('The handler wrote no HTTP response prelude.');
  const head = JSON.parse(prelude.toString('utf8')) as {
    statusCode?: number;
    headers?: Record<string, string>;
  };
  if (typeof head.statusCode !== 'number') throw new Error('The response prelude has no status code.');
  return {
    statusCode: head.statusCode,
    headers: head.headers ?? {},
    body: Buffer.concat(chunks).toString('utf8'),
  };
}

/** The `data:` payloads of an SSE body (comments skipped). */
export function sseEvents(body: string): string[] {
  return body
    .split('\n\n')
    .map((block) => block.trim())
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

/**
 * Installs the local Lambda runtime globals even when an SDK module already created `globalThis.awslambda`
 * (`@aws/lambda-invoke-store` adds its `InvokeStore` there on import), keeping what was there.
 */
export function installRuntime(): void {
  const scope = globalThis as unknown as { awslambda?: Record<string, unknown> };
  const existing = scope.awslambda;
  if (existing && typeof existing.streamifyResponse === 'function') return;
  scope.awslambda = undefined;
  installLambdaRuntimeGlobals();
  const installed: Record<string, unknown> = scope.awslambda ?? {};
  if (existing) scope.awslambda = { ...existing, ...installed };
}

/** Points the handlers loaded after this call at the test table (quiet logs, no metrics output). */
export function useTable(table: TestTable, extra: Record<string, string> = {}): void {
  Object.assign(process.env, {
    TABLE_NAME,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    // The `/v1/me` handler exports and erases files too; with no file records it never calls the bucket.
    FILES_BUCKET_NAME: 'unit-files',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...extra,
  });
}

export interface ChatHarness {
  readonly table: TestTable;
  readonly model: FakeModel;
  /** The chat handler, loaded after the environment points at the table and the fake model. */
  readonly handler: unknown;
  close(): Promise<void>;
}

/**
 * The chat handler in process, as the Lambda runtime runs it: a response stream with the HTTP prelude, dynalite
 * for the table, and a fake OpenAI-compatible model (answering per `plan`) behind the local SageMaker runtime.
 */
export async function startChatHarness(
  plan: (body: Record<string, unknown>, index: number) => FakeBehaviour,
  env: Record<string, string> = {},
): Promise<ChatHarness> {
  const table = await startTable();
  const model = await startFakeModel(plan);
  const runtime = await startSageMakerRuntime({ port: 0, endpoints: { 'local-llm': model.url } });
  useTable(table, {
    AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: runtime.url,
    INFERENCE_ENDPOINTS: 'local-llm',
    MODEL_ID: 'test-model',
    QUOTA_REQUESTS_PER_MINUTE: '1000',
    ...env,
  });
  installRuntime();
  const handler = (await import('../../../lambdas/chat/handler')).handler;
  return {
    table,
    model,
    handler,
    close: async () => {
      await runtime.close();
      await model.close();
      await table.close();
    },
  };
}

/** Pipeline dependencies over a test table and a SageMaker runtime client (default moderation, no events). */
export function pipelineDeps(
  table: TestTable,
  client: SageMakerRuntimeClient,
  inference: Partial<ChatDeps['inference']> = {},
): ChatDeps {
  return {
    store: { db: table.db, tableName: TABLE_NAME, retentionDays: 0 },
    quota: { db: table.db, tableName: TABLE_NAME, requestsPerMinute: 1000, tokensPerDay: 1e9 },
    limits: DEFAULT_LIMITS,
    inference: {
      client,
      endpoints: ['m'],
      breakers: new CircuitBreakers({ threshold: 3, cooldownMs: 1000 }),
      ...inference,
    },
    moderation: createModeration({
      config: defaultModerationConfig(),
      recorder: { decision: () => undefined },
    }),
    modelId: 'test-model',
  };
}
