/**
 * The local API adapter against the real dev issuer: the authorizer's 401/403 rules, the proxy event handed to
 * handlers, and Lambda response streaming delivered chunk by chunk.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FunctionName } from '../../../lambdas/contracts/routes';
import { type RunningApi, startApiServer } from '../../../scripts/local/api';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { API_AUDIENCE, type RunningIssuer, startIssuer } from '../../../scripts/local/issuer';
import { installLambdaRuntimeGlobals } from '../../../scripts/local/lambda-runtime';
import { freePort } from '../../../scripts/local/ports';
import { requestToken } from '../setup/context';

let dataDir: string;
let issuer: RunningIssuer;
let api: RunningApi;
const received: APIGatewayProxyEvent[] = [];
let releaseSecondChunk: () => void = () => undefined;

function testHandlers(): Partial<Record<FunctionName, unknown>> {
  installLambdaRuntimeGlobals();
  const models = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    received.push(event);
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ok: true }),
    };
  };
  // A streaming handler written the way the chat handler is: middy with streamifyResponse.
  const chat = middy<
    APIGatewayProxyEvent,
    { statusCode: number; headers: Record<string, string>; body: Readable }
  >({
    streamifyResponse: true,
  }).handler(async () => {
    const gate = new Promise<void>((resolve) => {
      releaseSecondChunk = resolve;
    });
    async function* body() {
      yield 'data: first\n\n';
      await gate; // only released once the client has seen the first chunk
      yield 'data: second\n\n';
    }
    return { statusCode: 200, headers: { 'content-type': 'text/event-stream' }, body: Readable.from(body()) };
  });
  return { models, chat };
}

beforeAll(async () => {
  // The authorizer reads the table (API keys, suspended accounts): the shared stack's DynamoDB.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: inject('stack').dynamodb,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    TABLE_NAME: LOCAL_TABLE_NAME,
  });
  dataDir = await mkdtemp(join(tmpdir(), 'chatstack-adapter-'));
  issuer = await startIssuer({
    host: '127.0.0.1',
    port: await freePort(),
    dataDir,
    webOrigins: ['http://127.0.0.1:9'],
  });
  const handlers = testHandlers();
  api = await startApiServer({
    host: '127.0.0.1',
    port: await freePort(),
    issuer: issuer.url,
    webOrigin: 'http://127.0.0.1:9',
    loadHandler: async (fn) => handlers[fn],
  });
});

afterAll(async () => {
  await api?.close();
  await issuer?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function signedWithIssuerKey(claims: Record<string, unknown>, expiresAt: number): Promise<string> {
  const jwk = JSON.parse(await readFile(join(dataDir, 'issuer-signing-key.json'), 'utf8')) as JWK;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: jwk.kid })
    .setIssuer(issuer.url)
    .setAudience(API_AUDIENCE)
    .setIssuedAt(expiresAt - 900)
    .setExpirationTime(expiresAt)
    .sign(await importJWK(jwk, 'RS256'));
}

const get = (path: string, token?: string) =>
  fetch(`${api.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('the local authorizer', () => {
  it('answers 401 with an OpenAI error when the token is missing', async () => {
    const res = await get('/v1/models');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: { type: 'authentication_error', code: 'invalid_token' },
    });
  });

  it('answers 401 for a token that is not a valid JWT', async () => {
    expect((await get('/v1/models', 'not-a-token')).status).toBe(401);
  });

  it('answers 401 for a token signed by another key', async () => {
    const stranger = await import('jose').then(({ generateKeyPair }) => generateKeyPair('RS256'));
    const forged = await new SignJWT({ sub: 'mallory', scope: 'chat:read chat:write' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
      .setIssuer(issuer.url)
      .setAudience(API_AUDIENCE)
      .setExpirationTime('10m')
      .sign(stranger.privateKey);
    expect((await get('/v1/models', forged)).status).toBe(401);
  });

  it('answers 401 for an expired token', async () => {
    const expired = await signedWithIssuerKey(
      { sub: 'dev-client-a', scope: 'chat:read' },
      Math.floor(Date.now() / 1000) - 60,
    );
    const res = await get('/v1/models', expired);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
  });

  it('answers 401 for a token that is not an access token (no token_use: access), as Cognito id tokens are', async () => {
    const notAccess = await signedWithIssuerKey(
      { sub: 'dev-client-a', scope: 'chat:read', client_id: 'dev-client-a', token_use: 'id' },
      Math.floor(Date.now() / 1000) + 600,
    );
    expect((await get('/v1/models', notAccess)).status).toBe(401);
  });

  it('answers 401 for a token of an app client the API does not accept', async () => {
    const stranger = await signedWithIssuerKey(
      { sub: 'dev-client-a', scope: 'chat:read', client_id: 'someone-elses-app', token_use: 'access' },
      Math.floor(Date.now() / 1000) + 600,
    );
    expect((await get('/v1/models', stranger)).status).toBe(401);
  });

  it('answers 401 for a token meant for another audience', async () => {
    const jwk = JSON.parse(await readFile(join(dataDir, 'issuer-signing-key.json'), 'utf8')) as JWK;
    const token = await new SignJWT({ sub: 'dev-client-a', scope: 'chat:read' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: jwk.kid })
      .setIssuer(issuer.url)
      .setAudience('urn:someone-else')
      .setExpirationTime('10m')
      .sign(await importJWK(jwk, 'RS256'));
    expect((await get('/v1/models', token)).status).toBe(401);
  });

  it('answers 403 when the token lacks the route scope', async () => {
    const readOnly = await requestToken(issuer.url, 'a', 'chat:read');
    const res = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readOnly}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      error: { type: 'permission_error', code: 'insufficient_scope' },
    });
  });

  it('passes a valid client_credentials token through as the Lambda authorizer’s context', async () => {
    const token = await requestToken(issuer.url, 'b', 'chat:read chat:write');
    const res = await get('/v1/models?limit=2', token);
    expect(res.status).toBe(200);
    const event = received.at(-1);
    expect(event?.requestContext.authorizer).toEqual({
      principalId: 'dev-client-b',
      sub: 'dev-client-b',
      client_id: 'dev-client-b',
      scope: 'chat:read chat:write',
      groups: '',
      auth_method: 'oauth',
    });
    expect(event?.queryStringParameters).toEqual({ limit: '2' });
  });

  it('answers 404 with an OpenAI error for unknown routes', async () => {
    const res = await get('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'unknown_url' } });
  });

  it('answers CORS preflight requests for the web origin', async () => {
    const res = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:9', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:9');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  });
});

describe('response streaming', () => {
  it('delivers each chunk as the handler writes it, not buffered', async () => {
    const token = await requestToken(issuer.url, 'a', 'chat:read chat:write');
    const res = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let seen = '';
    while (!seen.includes('first')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended before the first chunk');
      seen += decoder.decode(value, { stream: true });
    }
    // The handler is still holding the second chunk: what arrived so far is the first chunk alone.
    expect(seen).toBe('data: first\n\n');
    releaseSecondChunk();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    expect(seen).toBe('data: first\n\ndata: second\n\n');
  });
});
