/**
 * `npm run bench:authorizer` — the API authorizer's cold start and verification latency (lambdas/authorizer).
 *
 * With the dev issuer and dynalite started in this process:
 * 1. Cold start: lambdas/authorizer/handler.ts bundled as the CDK bundles it, imported by fresh Node processes
 *    that then answer one request with an access token — init (module load, dependencies) and the first answer
 *    (JWKS download, signature check), median of 7 processes.
 * 2. Warm verification in one process, p50/p99: an access token with the JWKS already cached (the usual case);
 *    with an empty JWKS cache (a new verifier per sample: download + verify); an API key (SHA-256, GSI lookup
 *    on dynalite; its last-used write is skipped within the minute); a refused bad token.
 * API Gateway's result cache (≤ 60 s per Authorization header) answers repeats without invoking the function,
 * which no local measurement includes. Prints Markdown for docs/BENCHMARKS.md and the machine load.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createApiKey } from '../lambdas/api-keys/store';
import { type AuthRequest, authorize } from '../lambdas/authorizer';
import { authorizerDeps } from '../lambdas/authorizer/deps';
import { EnvName } from '../lambdas/contracts/env';
import { bundleLambda } from './bench/lambda-bundle';
import { localTokenSettings } from './local/authorizer';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME, startEmulators } from './local/emulators';
import { DEV_MACHINE_CLIENTS, startIssuer } from './local/issuer';
import { freePorts } from './local/ports';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 500);
const COLD_JWKS_SAMPLES = Number(process.env.BENCH_COLD_JWKS_SAMPLES ?? 50);
const COLD_PROCESSES = 7;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function clientToken(issuer: string): Promise<string> {
  const { clientId, clientSecret } = DEV_MACHINE_CLIENTS.a;
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'chat:read chat:write' }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token request failed: ${response.status}`);
  return body.access_token;
}

/** Times `run` `count` times, one after another; EMF lines the authorizer prints are dropped while timing. */
async function timed(count: number, run: () => Promise<unknown>): Promise<number[]> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await run();
      samples.push(performance.now() - started);
    }
    return samples;
  } finally {
    process.stdout.write = write;
  }
}

async function coldStart(env: Record<string, string>, token: string) {
  const bundle = await bundleLambda('authorizer');
  const probe = join(tmpdir(), `chatstack-authorizer-cold-${process.pid}.mjs`);
  const event = {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:000000000000:api/local/GET/v1/models',
    resource: '/v1/models',
    path: '/v1/models',
    httpMethod: 'GET',
    headers: { Authorization: `Bearer ${token}` },
    requestContext: { requestId: 'bench-cold' },
  };
  await writeFile(
    probe,
    `const started = performance.now();
const { handler } = await import(${JSON.stringify(bundle.outfile)});
const loaded = performance.now();
const context = { functionName: 'authorizer', awsRequestId: 'bench', getRemainingTimeInMillis: () => 10000 };
const result = await handler(${JSON.stringify(event)}, context);
const answered = performance.now();
if (!result?.policyDocument) throw new Error('no policy');
console.log(JSON.stringify({ initMs: loaded - started, firstMs: answered - loaded }));
`,
  );
  const samples: { initMs: number; firstMs: number }[] = [];
  try {
    for (let run = 0; run < COLD_PROCESSES; run++) {
      const { stdout } = await promisify(execFile)(process.execPath, ['--enable-source-maps', probe], {
        env: { ...process.env, ...env },
      });
      samples.push(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as (typeof samples)[number]);
    }
  } finally {
    await rm(probe, { force: true });
  }
  return {
    bytes: bundle.bytes,
    initMs: percentile(
      samples.map((s) => s.initMs),
      50,
    ),
    firstMs: percentile(
      samples.map((s) => s.firstMs),
      50,
    ),
  };
}

const load = async () => (await promisify(execFile)('uptime')).stdout.trim();
const loadBefore = await load();
const dataDir = await mkdtemp(join(tmpdir(), 'chatstack-bench-auth-'));
const [issuerPort = 0, dynamodbPort = 0, sqsPort = 0, kinesisPort = 0] = await freePorts(4);
const emulators = await startEmulators({ host: '127.0.0.1', dynamodbPort, sqsPort, kinesisPort });
const issuer = await startIssuer({
  host: '127.0.0.1',
  port: issuerPort,
  dataDir,
  webOrigins: ['http://127.0.0.1:9'],
});
try {
  const env = {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [EnvName.dynamodbEndpoint]: emulators.dynamodbUrl,
    [EnvName.tableName]: LOCAL_TABLE_NAME,
    [EnvName.authIssuer]: issuer.url,
    [EnvName.authJwksUri]: `${issuer.url}/jwks`,
    [EnvName.authClientIds]: localTokenSettings(issuer.url).clientIds.join(','),
    [EnvName.logLevel]: 'ERROR',
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
  Object.assign(process.env, env);
  const token = await clientToken(issuer.url);
  const cold = await coldStart(env, token);

  const settings = { ...localTokenSettings(issuer.url), tableName: LOCAL_TABLE_NAME };
  const deps = authorizerDeps(settings);
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: emulators.dynamodbUrl,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    }),
  );
  const key = await createApiKey(
    { db, tableName: LOCAL_TABLE_NAME },
    { sub: 'bench-user', scopes: ['chat:read', 'chat:write'] },
    { name: 'bench' },
  );
  const request = (credential: string): AuthRequest => ({
    authorization: `Bearer ${credential}`,
    method: 'GET',
    resource: '/v1/models',
    requestId: 'bench',
  });
  const expectOk = async (credential: string, withDeps = deps) => {
    const decision = await authorize(withDeps, request(credential));
    if (!decision.ok) throw new Error(`refused: ${decision.reason}`);
  };
  await expectOk(token);
  await expectOk(key.key);

  const results = {
    'access token, JWKS cached': await timed(SAMPLES, () => expectOk(token)),
    'access token, JWKS not cached (download + verify)': await timed(COLD_JWKS_SAMPLES, () =>
      expectOk(token, authorizerDeps(settings)),
    ),
    'API key (hash + DynamoDB GSI query on dynalite)': await timed(SAMPLES, () => expectOk(key.key)),
    'refused: malformed token': await timed(SAMPLES, () => authorize(deps, request('not-a-token'))),
  };
  const ms = (value: number) => `${value.toFixed(2)} ms`;
  console.log(`$ uptime (before): ${loadBefore}`);
  console.log(`$ uptime (after):  ${await load()}`);
  console.log(
    `node ${process.version}, ${SAMPLES} samples per row (${COLD_JWKS_SAMPLES} without JWKS cache)\n`,
  );
  console.log('| cold start (fresh process, median of 7) | value |\n| --- | --- |');
  console.log(`| bundle (minified ESM) | ${(cold.bytes / 1024).toFixed(1)} KiB |`);
  console.log(`| init: import the handler module | ${ms(cold.initMs)} |`);
  console.log(`| first answer (JWKS download + verify + policy) | ${ms(cold.firstMs)} |\n`);
  console.log('| warm verification | p50 | p99 |\n| --- | --- | --- |');
  for (const [name, samples] of Object.entries(results)) {
    console.log(`| ${name} | ${ms(percentile(samples, 50))} | ${ms(percentile(samples, 99))} |`);
  }
} finally {
  await issuer.close();
  await emulators.close();
  await rm(dataDir, { recursive: true, force: true });
}
