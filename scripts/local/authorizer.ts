/**
 * The local stand-in for API Gateway's Cognito user pool authorizer: verifies the bearer JWT against the issuer's
 * JWKS (signature, issuer, audience, expiry), then checks the route's OAuth scopes. The verified claims are handed
 * to the handler as strings, as API Gateway does.
 */
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { Scope } from '../../lambdas/contracts/routes';

export type AuthorizerResult =
  | { readonly ok: true; readonly claims: Record<string, string> }
  | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

export interface AuthorizerOptions {
  readonly issuer: string;
  readonly audience: string;
  /** @default `<issuer>/jwks` (oidc-provider's JWKS path) */
  readonly jwksUri?: string;
}

export function createAuthorizer(options: AuthorizerOptions) {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri ?? `${options.issuer}/jwks`), {
    cacheMaxAge: 10 * 60 * 1000,
  });

  return async function authorize(
    authorization: string | undefined,
    requiredScopes: readonly Scope[],
  ): Promise<AuthorizerResult> {
    const match = authorization?.match(/^Bearer\s+(\S+)$/i);
    const token = match?.[1];
    if (!token) return { ok: false, status: 401, message: 'Missing bearer token.' };
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['RS256'],
        typ: 'at+jwt',
      });
      const granted = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ') : []);
      const missing = requiredScopes.filter((scope) => !granted.has(scope));
      if (missing.length > 0) {
        return {
          ok: false,
          status: 403,
          message: `The access token lacks the required scope: ${missing.join(' ')}.`,
        };
      }
      const claims: Record<string, string> = {};
      for (const [name, value] of Object.entries(payload)) {
        claims[name] = typeof value === 'string' ? value : JSON.stringify(value);
      }
      return { ok: true, claims };
    } catch (error) {
      const message =
        error instanceof errors.JWTExpired ? 'The access token has expired.' : 'The access token is invalid.';
      return { ok: false, status: 401, message };
    }
  };
}
