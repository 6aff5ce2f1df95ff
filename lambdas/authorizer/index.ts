import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { JwtExpiredError, JwtInvalidScopeError } from 'aws-jwt-verify/error';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { findSuspension } from '../admin/suspension';
import { hashApiKeySecret, isWellFormedApiKey, looksLikeApiKey } from '../api-keys/secret';
import { type ApiKeyStoreDeps, findApiKeyByHash, isLive, recordApiKeyUse } from '../api-keys/store';
import { type AnalyticsEvent, buildEvent, EventType } from '../contracts/events';
import { MetricDimension, MetricName } from '../contracts/metrics';
import { ADMIN_GROUP, API_SCOPES, ROUTES, type RouteDefinition, type Scope } from '../contracts/routes';
import { logger, metrics } from '../shared/powertools';
import type { AccessTokenVerifier } from './jwt';

/**
 * The one authorizer of the API, for API Gateway's Lambda REQUEST authorizer (handler.ts) and the local adapter
 * alike: it reads the bearer credential, verifies it — an OAuth access token with aws-jwt-verify, or a personal
 * API key by the hash of its secret — and decides which routes the caller may call. Every refusal is counted
 * (`AuthFailures` by `Reason`) and emitted as an `auth.failed` event for the audit log.
 */
export type AuthMethod = 'oauth' | 'api_key';
export type AuthFailureReason =
  | 'no_token'
  | 'bad_token'
  | 'expired'
  | 'wrong_scope'
  | 'revoked_key'
  | 'not_admin'
  | 'account_suspended';

/** Who is calling, as the handlers read it (lambdas/shared/auth.ts). */
export interface Identity {
  readonly sub: string;
  readonly scopes: readonly Scope[];
  /** Cognito groups (`cognito:groups`); keys carry none. */
  readonly groups: readonly string[];
  readonly authMethod: AuthMethod;
  readonly clientId?: string;
  readonly apiKeyId?: string;
}

export interface AuthRequest {
  /** The `Authorization` header as received. */
  readonly authorization: string | undefined;
  readonly method: string;
  /** The route's resource path, with `{param}` placeholders (API Gateway's `resource`). */
  readonly resource: string;
  readonly requestId: string;
}

export type AuthDecision =
  | {
      readonly ok: true;
      readonly identity: Identity;
      /** Every route this caller may call: API Gateway caches one policy per token for all methods. */
      readonly allowed: readonly RouteDefinition[];
    }
  | {
      readonly ok: false;
      readonly status: 401 | 403;
      readonly reason: AuthFailureReason;
      readonly message: string;
      /** Known when the credential itself verified (a 403), for the policy of the routes it may call. */
      readonly identity?: Identity;
      readonly allowed: readonly RouteDefinition[];
    };

export interface AuthorizerDeps {
  readonly verifyAccessToken: AccessTokenVerifier;
  /** What the issuer puts before each API scope (Cognito: `<resource server id>/`). */
  readonly scopePrefix: string;
  readonly apiKeys: ApiKeyStoreDeps;
  /** Sends `auth.failed` events; absent when no stream is configured. */
  readonly emitEvents?: (events: readonly AnalyticsEvent[]) => Promise<unknown>;
  readonly routes?: readonly RouteDefinition[];
  readonly now?: () => Date;
}

/** A refusal before any identity is known (no credential, a bad one): the audit log's subject. */
export const ANONYMOUS_SUB = 'anonymous';

class Refusal extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly reason: AuthFailureReason,
    message: string,
    readonly sub?: string,
    readonly apiKeyId?: string,
  ) {
    super(message);
  }
}

function bearerOf(authorization: string | undefined): string {
  const token = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!token)
    throw new Refusal(
      401,
      'no_token',
      'Missing bearer token: send `Authorization: Bearer <token or API key>`.',
    );
  return token;
}

const words = (value: unknown) => (typeof value === 'string' ? value.split(' ').filter(Boolean) : []);

function identityFromToken(payload: JwtPayload, scopePrefix: string): Identity {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw new Refusal(401, 'bad_token', 'The access token is invalid.');
  }
  const granted = new Set(words(payload.scope));
  const groups = payload['cognito:groups'];
  return {
    sub: payload.sub,
    scopes: API_SCOPES.filter((scope) => granted.has(`${scopePrefix}${scope}`)),
    groups: Array.isArray(groups) ? groups.filter((group): group is string => typeof group === 'string') : [],
    authMethod: 'oauth',
    ...(typeof payload.client_id === 'string' ? { clientId: payload.client_id } : {}),
  };
}

async function verifyToken(deps: AuthorizerDeps, token: string): Promise<Identity> {
  try {
    return identityFromToken(await deps.verifyAccessToken(token), deps.scopePrefix);
  } catch (error) {
    if (error instanceof Refusal) throw error;
    // `rawJwt` is only set once the signature verified: the subject is then known, not claimed.
    const raw = (error as { rawJwt?: { payload?: JwtPayload } }).rawJwt?.payload;
    const sub = typeof raw?.sub === 'string' ? raw.sub : undefined;
    if (error instanceof JwtExpiredError)
      throw new Refusal(401, 'expired', 'The access token has expired.', sub);
    if (error instanceof JwtInvalidScopeError) {
      throw new Refusal(
        403,
        'wrong_scope',
        `The access token carries none of the API's scopes (${API_SCOPES.join(', ')}).`,
        sub,
      );
    }
    logger.info('access token refused', { error: (error as Error).constructor.name });
    throw new Refusal(401, 'bad_token', 'The access token is invalid.');
  }
}

async function verifyApiKey(deps: AuthorizerDeps, secret: string): Promise<Identity> {
  if (!isWellFormedApiKey(secret)) throw new Refusal(401, 'bad_token', 'The API key is invalid.');
  const item = await findApiKeyByHash(deps.apiKeys, hashApiKeySecret(secret));
  if (!item) throw new Refusal(401, 'bad_token', 'The API key is invalid.');
  if (item.revokedAt !== undefined) {
    throw new Refusal(401, 'revoked_key', 'The API key was revoked.', item.sub, item.keyId);
  }
  const now = deps.now ? deps.now() : new Date();
  if (!isLive(item, now)) throw new Refusal(401, 'expired', 'The API key has expired.', item.sub, item.keyId);
  // A failed `last_used_at` write must not refuse a valid key.
  await recordApiKeyUse(deps.apiKeys, item).catch((error: unknown) =>
    logger.warn('could not record API key use', { error: error as Error, apiKeyId: item.keyId }),
  );
  return { sub: item.sub, scopes: [...item.scopes], groups: [], authMethod: 'api_key', apiKeyId: item.keyId };
}

const isAdmin = (identity: Identity) => identity.groups.includes(ADMIN_GROUP);

/**
 * The routes an identity may call: every scope held, never key management with a key, and the admin API only
 * for members of the `admin` group (keys carry no groups, so never with a key).
 */
export function allowedRoutes(
  identity: Identity,
  routes: readonly RouteDefinition[] = ROUTES,
): RouteDefinition[] {
  const held = new Set(identity.scopes);
  // A public route (no scopes) runs no authorizer, so no policy needs to name it.
  return routes.filter(
    (route) =>
      route.scopes.length > 0 &&
      route.scopes.every((scope) => held.has(scope)) &&
      !(route.signInOnly && identity.authMethod === 'api_key') &&
      !(route.adminOnly && !isAdmin(identity)),
  );
}

function routeRefusal(route: RouteDefinition | undefined, identity: Identity): Refusal {
  const forKey = identity.authMethod === 'api_key' ? identity.apiKeyId : undefined;
  if (route?.adminOnly && !isAdmin(identity)) {
    return new Refusal(
      403,
      'not_admin',
      `Only members of the "${ADMIN_GROUP}" group may call the admin API.`,
      identity.sub,
      forKey,
    );
  }
  if (route?.signInOnly && identity.authMethod === 'api_key') {
    return new Refusal(
      403,
      'wrong_scope',
      'API keys cannot manage API keys: sign in to do that.',
      identity.sub,
      forKey,
    );
  }
  const missing = route ? route.scopes.filter((scope) => !identity.scopes.includes(scope)) : [];
  return new Refusal(
    403,
    'wrong_scope',
    `The ${identity.authMethod === 'api_key' ? 'API key' : 'access token'} lacks the required scope: ${missing.join(' ') || 'unknown route'}.`,
    identity.sub,
    forKey,
  );
}

async function reportFailure(deps: AuthorizerDeps, request: AuthRequest, refusal: Refusal): Promise<void> {
  const metric = metrics.singleMetric();
  metric.addDimension(MetricDimension.reason, refusal.reason);
  metric.addMetric(MetricName.authFailures, MetricUnit.Count, 1);
  if (!deps.emitEvents) return;
  await deps.emitEvents([
    buildEvent({
      type: EventType.authFailed,
      sub: (refusal.sub ?? ANONYMOUS_SUB).slice(0, 128),
      requestId: request.requestId.slice(0, 64),
      ...(refusal.apiKeyId ? { apiKeyId: refusal.apiKeyId } : {}),
      status: 'error',
      errorCode: refusal.reason,
    }),
  ]);
}

/** Verifies the request's credential and decides; never throws for a refused credential. */
export async function authorize(deps: AuthorizerDeps, request: AuthRequest): Promise<AuthDecision> {
  const routes = deps.routes ?? ROUTES;
  let identity: Identity | undefined;
  try {
    const credential = bearerOf(request.authorization);
    identity = looksLikeApiKey(credential)
      ? await verifyApiKey(deps, credential)
      : await verifyToken(deps, credential);
    if (await findSuspension(deps.apiKeys, identity.sub)) {
      throw new Refusal(
        403,
        'account_suspended',
        'This account is suspended: contact your administrator.',
        identity.sub,
        identity.authMethod === 'api_key' ? identity.apiKeyId : undefined,
      );
    }
    const allowed = allowedRoutes(identity, routes);
    const route = routes.find(
      (candidate) => candidate.method === request.method && candidate.path === request.resource,
    );
    if (!route || !allowed.includes(route)) throw routeRefusal(route, identity);
    const metric = metrics.singleMetric();
    metric.addDimension(MetricDimension.authMethod, identity.authMethod);
    metric.addMetric(MetricName.authSuccesses, MetricUnit.Count, 1);
    return { ok: true, identity, allowed };
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    await reportFailure(deps, request, error);
    return {
      ok: false,
      status: error.status,
      reason: error.reason,
      message: error.message,
      ...(identity ? { identity } : {}),
      // A suspended account may call nothing: the cached policy must not allow any route either.
      allowed: identity && error.reason !== 'account_suspended' ? allowedRoutes(identity, routes) : [],
    };
  }
}

/**
 * The identity as API Gateway passes an authorizer's context to the integration (flat strings under
 * `requestContext.authorizer`); lambdas/shared/auth.ts reads it back.
 */
export function authorizerContext(identity: Identity): Record<string, string> {
  return {
    sub: identity.sub,
    scope: identity.scopes.join(' '),
    groups: identity.groups.join(' '),
    auth_method: identity.authMethod,
    ...(identity.clientId ? { client_id: identity.clientId } : {}),
    ...(identity.apiKeyId ? { api_key_id: identity.apiKeyId } : {}),
  };
}
