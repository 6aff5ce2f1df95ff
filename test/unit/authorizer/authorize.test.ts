import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { JwtExpiredError, JwtInvalidScopeError, JwtInvalidSignatureError } from 'aws-jwt-verify/error';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { describe, expect, it } from 'vitest';
import { generateApiKeySecret } from '../../../lambdas/api-keys/secret';
import { type AuthorizerDeps, allowedRoutes, authorize } from '../../../lambdas/authorizer';
import { authorizerResult, Unauthorized } from '../../../lambdas/authorizer/policy';
import type { AnalyticsEvent } from '../../../lambdas/contracts/events';
import { keys } from '../../../lambdas/contracts/keys';
import { ROUTES } from '../../../lambdas/contracts/routes';
import { callerOf } from '../../../lambdas/shared/auth';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1/models';

/** Token verification replaced at its boundary: aws-jwt-verify's answer for each test token. */
function depsWith(
  verify: (token: string) => JwtPayload,
  emitted: AnalyticsEvent[] = [],
  suspended: ReadonlySet<string> = new Set(),
): AuthorizerDeps {
  // The table answers the suspension lookup only (`keys.suspension`); any other read is unexpected.
  const unusedDb = {
    send: (command: GetCommand) => {
      const pk = String(command.input?.Key?.pk ?? '');
      if (!(command instanceof GetCommand) || !pk.startsWith(keys.suspensionPrefix)) {
        return Promise.reject(new Error('no API key lookup expected'));
      }
      const sub = pk.slice(keys.suspensionPrefix.length);
      return Promise.resolve({
        Item: suspended.has(sub) ? { suspendedAt: '2026-01-01T00:00:00Z', suspendedBy: 'root' } : undefined,
      });
    },
  } as unknown as DynamoDBDocumentClient;
  return {
    verifyAccessToken: async (token) => verify(token),
    scopePrefix: 'chatstack/',
    apiKeys: { db: unusedDb, tableName: 'table' },
    emitEvents: async (events) => {
      emitted.push(...events);
    },
  };
}

const machine = (scope: string): JwtPayload => ({
  sub: 'client-a',
  client_id: 'client-a',
  scope,
  token_use: 'access',
  'cognito:groups': ['admins'],
});

const request = (authorization: string | undefined, method = 'GET', resource = '/v1/models') => ({
  authorization,
  method,
  resource,
  requestId: 'req-1',
});

describe('authorize', () => {
  it('lets a Cognito access token through with its scopes (prefix removed), groups and client', async () => {
    const decision = await authorize(
      depsWith(() => machine('chatstack/chat:read chatstack/chat:write')),
      request('Bearer token'),
    );
    expect(decision.ok).toBe(true);
    expect(decision.identity).toEqual({
      sub: 'client-a',
      scopes: ['chat:read', 'chat:write'],
      groups: ['admins'],
      authMethod: 'oauth',
      clientId: 'client-a',
    });
    expect(decision.allowed).toEqual(ROUTES.filter((route) => route.scopes.length > 0 && !route.adminOnly));
  });

  it('lets only members of the admin group call the admin API (403 not_admin otherwise)', async () => {
    const admin = { ...machine('chatstack/chat:read chatstack/chat:write'), 'cognito:groups': ['admin'] };
    const ok = await authorize(
      depsWith(() => admin),
      request('Bearer token', 'GET', '/v1/admin/users'),
    );
    expect(ok.ok).toBe(true);
    expect(ok.allowed.some((route) => route.adminOnly)).toBe(true);
    const emitted: AnalyticsEvent[] = [];
    const refused = await authorize(
      depsWith(() => machine('chatstack/chat:read chatstack/chat:write'), emitted),
      request('Bearer token', 'GET', '/v1/admin/users'),
    );
    expect(refused).toMatchObject({ ok: false, status: 403, reason: 'not_admin' });
    expect(refused.allowed.some((route) => route.adminOnly)).toBe(false);
    expect(emitted[0]).toMatchObject({ type: 'auth.failed', errorCode: 'not_admin', sub: 'client-a' });
  });

  it('refuses every route to a suspended account with 403 account_suspended, allowing none', async () => {
    const decision = await authorize(
      depsWith(() => machine('chatstack/chat:read chatstack/chat:write'), [], new Set(['client-a'])),
      request('Bearer token'),
    );
    expect(decision).toMatchObject({ ok: false, status: 403, reason: 'account_suspended', allowed: [] });
    const answer = authorizerResult(decision, METHOD_ARN);
    expect(answer.policyDocument.Statement).toEqual([
      { Effect: 'Deny', Action: 'execute-api:Invoke', Resource: METHOD_ARN },
    ]);
    // API Gateway's AccessDenied answer reads its error code from here.
    expect(answer.context?.denial_code).toBe('account_suspended');
  });

  it.each([
    ['no header', undefined, 'no_token'],
    ['another scheme', 'Basic dXNlcjpwYXNz', 'no_token'],
    ['a bearer without a token', 'Bearer ', 'no_token'],
  ])('refuses %s with 401 no_token', async (_name, header, reason) => {
    const emitted: AnalyticsEvent[] = [];
    const decision = await authorize(
      depsWith(() => machine('chatstack/chat:read'), emitted),
      request(header),
    );
    expect(decision).toMatchObject({ ok: false, status: 401, reason });
    expect(emitted).toEqual([
      expect.objectContaining({
        type: 'auth.failed',
        sub: 'anonymous',
        errorCode: reason,
        requestId: 'req-1',
        status: 'error',
      }),
    ]);
  });

  it('refuses a token whose signature does not verify with 401 bad_token', async () => {
    const emitted: AnalyticsEvent[] = [];
    const decision = await authorize(
      depsWith(() => {
        throw new JwtInvalidSignatureError('Invalid signature');
      }, emitted),
      request('Bearer forged'),
    );
    expect(decision).toMatchObject({ ok: false, status: 401, reason: 'bad_token' });
    expect(emitted[0]).toMatchObject({ sub: 'anonymous', errorCode: 'bad_token' });
  });

  it('refuses an expired token with 401 expired, naming its verified subject in the event', async () => {
    const emitted: AnalyticsEvent[] = [];
    const decision = await authorize(
      depsWith(() => {
        throw new JwtExpiredError('Token expired', 1).withRawJwt({
          header: { alg: 'RS256' },
          payload: machine('chatstack/chat:read'),
        });
      }, emitted),
      request('Bearer old'),
    );
    expect(decision).toMatchObject({ ok: false, status: 401, reason: 'expired' });
    expect(emitted[0]).toMatchObject({ sub: 'client-a', errorCode: 'expired' });
  });

  it('refuses a token with none of the API scopes with 403 wrong_scope', async () => {
    const decision = await authorize(
      depsWith(() => {
        throw new JwtInvalidScopeError('Missing scope', 'openid', ['chatstack/chat:read']);
      }),
      request('Bearer openid-only'),
    );
    expect(decision).toMatchObject({ ok: false, status: 403, reason: 'wrong_scope' });
  });

  it('refuses a route whose scope the token lacks with 403, still listing what it may call', async () => {
    const emitted: AnalyticsEvent[] = [];
    const decision = await authorize(
      depsWith(() => machine('chatstack/chat:read'), emitted),
      request('Bearer read-only', 'POST', '/v1/chat/completions'),
    );
    expect(decision).toMatchObject({ ok: false, status: 403, reason: 'wrong_scope' });
    expect(decision.ok ? '' : decision.message).toMatch(/chat:write/);
    expect(decision.allowed.every((route) => route.scopes.every((scope) => scope === 'chat:read'))).toBe(
      true,
    );
    expect(emitted[0]).toMatchObject({ sub: 'client-a', errorCode: 'wrong_scope' });
  });

  it('refuses a malformed API key without looking it up (the checksum fails)', async () => {
    const typo = `${generateApiKeySecret().slice(0, -1)}!`;
    const decision = await authorize(
      depsWith(() => machine('')),
      request(`Bearer ${typo}`),
    );
    expect(decision).toMatchObject({ ok: false, status: 401, reason: 'bad_token' });
  });
});

describe('allowedRoutes', () => {
  it('never lets an API key manage API keys, whatever its scopes', () => {
    const allowed = allowedRoutes({
      sub: 'u',
      scopes: ['chat:read', 'chat:write'],
      groups: [],
      authMethod: 'api_key',
      apiKeyId: 'key_0',
    });
    expect(allowed.some((route) => route.path.startsWith('/v1/me/api-keys'))).toBe(false);
    expect(allowed.some((route) => route.path === '/v1/chat/completions')).toBe(true);
  });
});

describe('the Lambda authorizer answer', () => {
  it('allows every route the caller may call, with path parameters as wildcards', async () => {
    const decision = await authorize(
      depsWith(() => machine('chatstack/chat:read')),
      request('Bearer t'),
    );
    const result = authorizerResult(decision, METHOD_ARN);
    expect(result.principalId).toBe('client-a');
    expect(result.policyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'execute-api:Invoke',
        Resource: expect.arrayContaining([
          'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1/models',
          'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1/conversations/*',
        ]),
      },
    ]);
    expect(JSON.stringify(result.policyDocument)).not.toContain('/POST/v1/chat/completions');
  });

  it('denies the asked-for method when the scope is missing, and keeps the rest allowed for the cache', async () => {
    const decision = await authorize(
      depsWith(() => machine('chatstack/chat:read')),
      request('Bearer t', 'POST', '/v1/chat/completions'),
    );
    const arn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/chat/completions';
    const result = authorizerResult(decision, arn);
    expect(result.policyDocument.Statement).toContainEqual({
      Effect: 'Deny',
      Action: 'execute-api:Invoke',
      Resource: arn,
    });
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });

  it('throws Unauthorized (API Gateway answers 401) when the credential did not verify', async () => {
    const decision = await authorize(
      depsWith(() => machine('')),
      request(undefined),
    );
    expect(() => authorizerResult(decision, METHOD_ARN)).toThrow(Unauthorized);
    expect(() => authorizerResult(decision, METHOD_ARN)).toThrow(/^Unauthorized$/);
  });

  it('hands the handlers an identity they read back unchanged', async () => {
    const decision = await authorize(
      depsWith(() => machine('chatstack/chat:read chatstack/chat:write')),
      request('Bearer t'),
    );
    const { principalId, context } = authorizerResult(decision, METHOD_ARN);
    const caller = callerOf({
      requestContext: { authorizer: { principalId, ...context } },
    } as unknown as Parameters<typeof callerOf>[0]);
    expect(caller).toEqual({
      sub: 'client-a',
      scopes: ['chat:read', 'chat:write'],
      clientId: 'client-a',
      groups: ['admins'],
      authMethod: 'oauth',
    });
  });
});
