import { JwtVerifier } from 'aws-jwt-verify';
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import { NonRetryableFetchError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { API_SCOPES } from '../contracts/routes';

/**
 * Verification of OAuth access tokens with aws-jwt-verify, the same code in the cloud (Cognito) and locally (the
 * dev issuer): signature against the issuer's JWKS (cached per process), issuer, expiry, `token_use: access`, an
 * allowed `client_id`, and at least one API scope. The generic `JwtVerifier` with Cognito's own field checks is
 * the library's documented way to verify Cognito tokens with a configurable issuer, so the dev issuer needs no
 * second code path.
 */
export interface AccessTokenSettings {
  /** The `iss` every token must carry. */
  readonly issuer: string;
  /** @default `<issuer>/.well-known/jwks.json` (Cognito's path) */
  readonly jwksUri?: string;
  /** App clients whose tokens are accepted (the token's `client_id`). */
  readonly clientIds: readonly string[];
  /** What the issuer puts before each API scope (Cognito: `<resource server id>/`). */
  readonly scopePrefix: string;
}

export type AccessTokenVerifier = (token: string) => Promise<JwtPayload>;

/**
 * JWKS downloads through the runtime's `fetch`: the library's default fetcher speaks only HTTPS, and the dev
 * issuer serves plain HTTP on localhost.
 */
const fetcher: Fetcher = {
  fetch: async (uri) => {
    const response = await fetch(uri, { signal: AbortSignal.timeout(3000) });
    if (response.status !== 200) {
      throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
    }
    return response.arrayBuffer();
  },
};

export function accessTokenVerifier(settings: AccessTokenSettings): AccessTokenVerifier {
  if (settings.clientIds.length === 0) throw new Error('The authorizer needs at least one allowed client id');
  const verifier = JwtVerifier.create(
    {
      issuer: settings.issuer,
      jwksUri: settings.jwksUri ?? `${settings.issuer}/.well-known/jwks.json`,
      // Cognito access tokens carry no `aud`; the client id is checked instead (below).
      audience: null,
      scope: API_SCOPES.map((scope) => `${settings.scopePrefix}${scope}`),
      // So an expired token's subject can be named in the audit event (set only once the signature verified).
      includeRawJwtInErrors: true,
      customJwtCheck: ({ payload }) =>
        validateCognitoJwtFields(payload, { tokenUse: 'access', clientId: [...settings.clientIds] }),
    },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );
  return (token) => verifier.verify(token);
}
