/**
 * Personal API keys end to end on the local stack, through the same authorizer module the cloud runs: a key is
 * made with a sign-in token, used by the official `openai` client, listed without its secret, invisible to
 * another user, revoked and then refused. Keys cannot make keys; expired keys, revoked keys and missing scopes
 * are refused with the right status, and every refusal reaches the audit log as `auth.failed`.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKey, ApiKeyList, CreatedApiKey } from '../../../lambdas/contracts/api-keys';
import { keys } from '../../../lambdas/contracts/keys';
import { until } from '../async/harness';
import { apiBase, machineToken } from '../setup/context';
import { auditedFailures, call, expireKey, usageOf } from './harness';

let tokenA: string;
let tokenB: string;
let created: CreatedApiKey;
/** Request ids of every refusal in this file, with the reason the audit log must name. */
const refusals: { requestId: string; reason: string }[] = [];

function refused(answer: { status: number; headers: Headers }, reason: string): void {
  const requestId = answer.headers.get('x-request-id');
  expect(requestId, 'a refusal names its request id').toBeTruthy();
  refusals.push({ requestId: requestId ?? '', reason });
}

const openaiWith = (apiKey: string) => new OpenAI({ baseURL: apiBase(), apiKey, maxRetries: 0 });

beforeAll(async () => {
  [tokenA, tokenB] = await Promise.all([machineToken('a'), machineToken('b')]);
});

afterAll(async () => {
  // Leave no live key behind for other runs against a persisted table.
  const list = (await call(tokenB, 'GET', '/me/api-keys')).json<ApiKeyList>();
  for (const key of list.data) await call(tokenB, 'DELETE', `/me/api-keys/${key.id}`);
});

describe('a personal API key', () => {
  it('is made with a sign-in token and shown once, with its prefix, scopes and expiry', async () => {
    const answer = await call(tokenA, 'POST', '/me/api-keys', {
      name: 'laptop scripts',
      expires_in_days: 30,
    });
    expect(answer.status).toBe(201);
    created = answer.json<CreatedApiKey>();
    expect(created).toMatchObject({
      object: 'api_key',
      name: 'laptop scripts',
      scopes: ['chat:read', 'chat:write'],
      last_used_at: null,
    });
    expect(created.id).toMatch(/^key_[0-9a-f]{24}$/);
    expect(created.key).toMatch(/^csk_[0-9A-Za-z]{46}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const lifetimeDays = (Date.parse(created.expires_at ?? '') - Date.parse(created.created_at)) / 86_400_000;
    expect(lifetimeDays).toBe(30);
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('works as the openai client’s apiKey, for chat and for models', async () => {
    const client = openaiWith(created.key);
    const completion = await client.chat.completions.create({
      model: 'chatstack-local',
      messages: [{ role: 'user', content: 'Hello from a key.' }],
      max_tokens: 4,
    });
    expect(completion.choices[0]?.message.role).toBe('assistant');
    const models = await client.models.list();
    expect(models.data.length).toBeGreaterThan(0);
  });

  it('shares its owner’s data: the conversation it made is the owner’s', async () => {
    const client = openaiWith(created.key);
    const completion = (await client.chat.completions.create({
      model: 'chatstack-local',
      messages: [{ role: 'user', content: 'Whose conversation is this?' }],
      max_tokens: 2,
    })) as OpenAI.ChatCompletion & { conversation_id?: string };
    expect(completion.conversation_id).toBeTruthy();
    expect((await call(tokenA, 'GET', `/conversations/${completion.conversation_id}`)).status).toBe(200);
    expect((await call(tokenB, 'GET', `/conversations/${completion.conversation_id}`)).status).toBe(404);
  });

  it('has its usage counted for its owner and for itself', async () => {
    const day = new Date().toISOString().slice(0, 10);
    // Two chat turns were made with the key above; the usage aggregator counts each once the stream delivers it.
    await until(async () => {
      const item = await usageOf(keys.apiKeyUsage('dev-client-a', created.id, day));
      return typeof item?.requests === 'number' && item.requests >= 2;
    }, 30_000);
    const owner = await usageOf(keys.usage('dev-client-a', day));
    expect(owner?.requests).toBeGreaterThanOrEqual(2);
    const listed = (await call(tokenA, 'GET', '/me/api-keys'))
      .json<ApiKeyList>()
      .data.find((key) => key.id === created.id);
    expect(listed?.usage_today.requests).toBe(2);
    expect(listed?.usage_today.completion_tokens).toBeGreaterThan(0);
  });

  it('is listed for its owner without the secret, with when it was last used', async () => {
    const answer = await call(tokenA, 'GET', '/me/api-keys');
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain(created.key);
    const listed = answer.json<ApiKeyList>().data.find((key) => key.id === created.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty('key');
    expect(listed).toMatchObject({
      name: 'laptop scripts',
      prefix: created.prefix,
      expires_at: created.expires_at,
    });
    expect(Date.parse(listed?.last_used_at ?? '')).toBeGreaterThanOrEqual(Date.parse(created.created_at));
  });

  it('is invisible to another user, who cannot revoke it either (404, as for a key that does not exist)', async () => {
    const list = await call(tokenB, 'GET', '/me/api-keys');
    expect(list.status).toBe(200);
    expect(list.json<ApiKeyList>().data.map((key: ApiKey) => key.id)).not.toContain(created.id);
    const revoke = await call(tokenB, 'DELETE', `/me/api-keys/${created.id}`);
    expect(revoke.status).toBe(404);
    expect(revoke.json()).toMatchObject({ error: { type: 'not_found_error', param: 'id' } });
    expect((await openaiWith(created.key).models.list()).data.length).toBeGreaterThan(0);
  });

  it('cannot make or list keys: key management needs a sign-in token', async () => {
    const mint = await call(created.key, 'POST', '/me/api-keys', { name: 'minted by a key' });
    expect(mint.status).toBe(403);
    expect(mint.json()).toMatchObject({ error: { type: 'permission_error', code: 'insufficient_scope' } });
    expect(mint.json<{ error: { message: string } }>().error.message).toMatch(/sign in/i);
    refused(mint, 'wrong_scope');
    const list = await call(created.key, 'GET', '/me/api-keys');
    expect(list.status).toBe(403);
    refused(list, 'wrong_scope');
    const revoke = await call(created.key, 'DELETE', `/me/api-keys/${created.id}`);
    expect(revoke.status).toBe(403);
    refused(revoke, 'wrong_scope');
  });

  it('is refused once revoked, with 401 and the reason', async () => {
    const revoke = await call(tokenA, 'DELETE', `/me/api-keys/${created.id}`);
    expect(revoke.status).toBe(200);
    expect(revoke.json()).toEqual({ id: created.id, object: 'api_key.deleted', deleted: true });
    const error = await openaiWith(created.key)
      .models.list()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).message).toMatch(/revoked/);
    refused(
      { status: 401, headers: (error as InstanceType<typeof OpenAI.APIError>).headers as Headers },
      'revoked_key',
    );
    const list = (await call(tokenA, 'GET', '/me/api-keys')).json<ApiKeyList>();
    expect(list.data.map((key) => key.id)).not.toContain(created.id);
    expect((await call(tokenA, 'DELETE', `/me/api-keys/${created.id}`)).status).toBe(404);
  });
});

describe('refusals', () => {
  it('refuses an expired key with 401', async () => {
    const key = (
      await call(tokenA, 'POST', '/me/api-keys', { name: 'short-lived', expires_in_days: 1 })
    ).json<CreatedApiKey>();
    expect((await call(key.key, 'GET', '/models')).status).toBe(200);
    await expireKey('dev-client-a', key.id);
    const answer = await call(key.key, 'GET', '/models');
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_token' } });
    expect(answer.json<{ error: { message: string } }>().error.message).toMatch(/expired/);
    refused(answer, 'expired');
    await call(tokenA, 'DELETE', `/me/api-keys/${key.id}`);
  });

  it('refuses a read-only key on a write route with 403, and lets it read', async () => {
    const key = (
      await call(tokenA, 'POST', '/me/api-keys', { name: 'reader', scopes: ['chat:read'] })
    ).json<CreatedApiKey>();
    expect(key.scopes).toEqual(['chat:read']);
    expect(key.expires_at).toBeNull();
    expect((await call(key.key, 'GET', '/models')).status).toBe(200);
    const error = await openaiWith(key.key)
      .chat.completions.create({
        model: 'chatstack-local',
        messages: [{ role: 'user', content: 'write?' }],
        max_tokens: 2,
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    refused(
      { status: 403, headers: (error as InstanceType<typeof OpenAI.APIError>).headers as Headers },
      'wrong_scope',
    );
    await call(tokenA, 'DELETE', `/me/api-keys/${key.id}`);
  });

  it('refuses a token without the route’s scope with 403', async () => {
    const readOnly = await machineToken('a', 'chat:read');
    const answer = await call(readOnly, 'POST', '/me/api-keys', { name: 'nope' });
    expect(answer.status).toBe(403);
    refused(answer, 'wrong_scope');
  });

  it('refuses a key with more scopes than its owner holds (400, naming the field)', async () => {
    const writeOnly = await machineToken('a', 'chat:write');
    const answer = await call(writeOnly, 'POST', '/me/api-keys', {
      name: 'greedy',
      scopes: ['chat:read', 'chat:write'],
    });
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ error: { param: 'scopes', code: 'scope_not_granted' } });
  });

  it('refuses no credential, a bad token and a mistyped key with 401', async () => {
    const none = await call(undefined, 'GET', '/models');
    expect(none.status).toBe(401);
    refused(none, 'no_token');
    const bad = await call('not.a.jwt', 'GET', '/models');
    expect(bad.status).toBe(401);
    refused(bad, 'bad_token');
    const mistyped = await call(`csk_${'x'.repeat(46)}`, 'GET', '/models');
    expect(mistyped.status).toBe(401);
    refused(mistyped, 'bad_token');
  });

  it('answers a malformed create request with 400 naming the field', async () => {
    const answer = await call(tokenA, 'POST', '/me/api-keys', { name: 'x', expires_in_days: 0 });
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({
      error: { type: 'invalid_request_error', param: 'expires_in_days' },
    });
  });

  it('lets a user hold at most 20 live keys', async () => {
    const made: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const answer = await call(tokenB, 'POST', '/me/api-keys', { name: `key ${i}` });
      expect(answer.status).toBe(201);
      made.push(answer.json<CreatedApiKey>().id);
    }
    const over = await call(tokenB, 'POST', '/me/api-keys', { name: 'one too many' });
    expect(over.status).toBe(409);
    expect(over.json()).toMatchObject({ error: { code: 'api_key_limit_reached' } });
    expect((await call(tokenB, 'DELETE', `/me/api-keys/${made[0]}`)).status).toBe(200);
    expect((await call(tokenB, 'POST', '/me/api-keys', { name: 'room again' })).status).toBe(201);
  });

  it('every refusal reaches the audit log as auth.failed with its reason', async () => {
    expect(refusals.length).toBeGreaterThanOrEqual(9);
    const records = await auditedFailures(refusals.map((refusal) => refusal.requestId));
    for (const refusal of refusals) {
      const record = records.find((candidate) => candidate.requestId === refusal.requestId);
      expect(record, `audit record of ${refusal.reason}`).toMatchObject({
        type: 'auth.failed',
        errorCode: refusal.reason,
      });
    }
  });
});
