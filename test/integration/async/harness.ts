/**
 * The async tests' own emulators (dynalite, fauxqs, kinesalite on free ports, in this process) and the SDK
 * clients for them, with the table and the queues/stream created as the local stack creates them.
 */
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import kinesalite from 'kinesalite';
import { EnvName } from '../../../lambdas/contracts/env';
import { ROUTES } from '../../../lambdas/contracts/routes';
import { TABLE } from '../../../lambdas/contracts/table';
import {
  type AsyncClients,
  createLocalAsyncResources,
  type LocalAsyncResources,
  localAsyncClients,
} from '../../../scripts/local/async-resources';
import {
  createTableInput,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_TABLE_NAME,
} from '../../../scripts/local/emulators';
import { freePort } from '../../../scripts/local/ports';
import { buildRestEvent } from '../../../scripts/local/rest-event';

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

/**
 * The three emulators on free ports. fauxqs gets no `host`, so its queue URLs use its default
 * `sqs.<region>.localhost` host (a `127.0.0.1` host would make them invalid URLs).
 */
async function startEmulators() {
  const dynamodb: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const kinesis: Server = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 50,
  });
  const [dynamodbPort, kinesisPort] = [await listen(dynamodb), await listen(kinesis)];
  const sqs = await startFauxqs({ port: await freePort(), logger: false });
  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    dynamodbUrl: `http://127.0.0.1:${dynamodbPort}`,
    sqsUrl: `http://127.0.0.1:${sqs.port}`,
    kinesisUrl: `http://127.0.0.1:${kinesisPort}`,
    close: async () => {
      await Promise.all([close(dynamodb), close(kinesis), sqs.stop()]);
    },
  };
}

export interface AsyncTestEnvironment extends AsyncClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly resources: LocalAsyncResources;
  /** Variables for handler modules loaded in this process (set them before importing a handler). */
  readonly handlerEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function startAsyncEnvironment(options: {
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
}): Promise<AsyncTestEnvironment> {
  const emulators = await startEmulators();
  const clients = localAsyncClients({ sqs: emulators.sqsUrl, kinesis: emulators.kinesisUrl });
  const resources = await createLocalAsyncResources(clients, options);
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: emulators.dynamodbUrl,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  await dynamo.send(new CreateTableCommand(createTableInput(TABLE, LOCAL_TABLE_NAME)));
  return {
    ...clients,
    dynamo,
    tableName: LOCAL_TABLE_NAME,
    resources,
    handlerEnv: {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      [EnvName.tableName]: LOCAL_TABLE_NAME,
      [EnvName.dynamodbEndpoint]: emulators.dynamodbUrl,
      [EnvName.sqsEndpoint]: emulators.sqsUrl,
      [EnvName.kinesisEndpoint]: emulators.kinesisUrl,
      [EnvName.jobsQueueUrl]: resources.queueUrls.jobs,
      [EnvName.eventsStreamName]: resources.streams.events.name,
      [EnvName.logLevel]: 'ERROR',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    close: async () => {
      dynamo.destroy();
      clients.sqs.destroy();
      clients.kinesis.destroy();
      await emulators.close();
    },
  };
}

/** A REST proxy event for one of the API's routes, as the local adapter (and API Gateway) builds it. */
export function apiEvent(options: {
  method: 'GET' | 'POST';
  path: string;
  sub: string;
  body?: unknown;
  headers?: Record<string, string>;
}): APIGatewayProxyEvent {
  const routePath = options.path.startsWith('/v1/jobs/') ? '/v1/jobs/{id}' : options.path;
  const route = ROUTES.find(
    (candidate) => candidate.method === options.method && candidate.path === routePath,
  );
  if (route === undefined) throw new Error(`No route ${options.method} ${routePath}`);
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(options.body));
  const rawHeaders = Object.entries({ 'Content-Type': 'application/json', ...options.headers }).flat();
  const id = options.path.startsWith('/v1/jobs/') ? options.path.slice('/v1/jobs/'.length) : undefined;
  return buildRestEvent(
    { method: options.method, url: options.path, rawHeaders, body, sourceIp: '127.0.0.1' },
    {
      route,
      pathParameters: id === undefined ? null : { id },
      authorizer: {
        principalId: options.sub,
        sub: options.sub,
        scope: route.scopes.join(' '),
        client_id: 'test-client',
      },
      stage: 'v1',
      host: 'localhost',
    },
  );
}

/** A Lambda context for handlers invoked directly. */
export function testContext(functionName = 'jobs', timeoutMs = 29_000): Context {
  const deadline = Date.now() + timeoutMs;
  const fail = () => {
    throw new Error('not supported');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

/** A small seeded PRNG (mulberry32), so injected failures are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Resolves once `check` returns true, polling the emulators (the event we wait for is a state change there). */
export async function until(
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
