/**
 * The local stand-in for API Gateway's Lambda REQUEST authorizer: the same module (lambdas/authorizer), built
 * the same way, called in process for each request. Only the edges differ: the settings name the dev issuer
 * (scripts/local/issuer.ts, whose tokens are Cognito-shaped), and there is no result cache, so every request is
 * verified (API Gateway reuses an answer for up to 60 s).
 */
import { type AuthDecision, type AuthRequest, authorize } from '../../lambdas/authorizer';
import { authorizerDeps } from '../../lambdas/authorizer/deps';
import type { AccessTokenSettings } from '../../lambdas/authorizer/jwt';
import { config } from '../../lambdas/shared/config';
import { LOCAL_TABLE_NAME } from './emulators';
import { DEV_MACHINE_CLIENTS, WEB_CLIENT_ID } from './identity';

export type LocalAuthorize = (request: AuthRequest) => Promise<AuthDecision>;

/** What the authorizer accepts from the dev issuer at `issuerUrl` (oidc-provider serves its JWKS at `/jwks`). */
export function localTokenSettings(issuerUrl: string): AccessTokenSettings {
  return {
    issuer: issuerUrl,
    jwksUri: `${issuerUrl}/jwks`,
    clientIds: [WEB_CLIENT_ID, ...Object.values(DEV_MACHINE_CLIENTS).map((client) => client.clientId)],
    scopePrefix: '',
  };
}

/** The authorizer for the dev issuer at `issuerUrl`, with the table and stream this process is configured with. */
export function createLocalAuthorizer(issuerUrl: string): LocalAuthorize {
  const deps = authorizerDeps({
    ...localTokenSettings(issuerUrl),
    tableName: config().tableName ?? LOCAL_TABLE_NAME,
    eventsStreamName: config().eventsStreamName,
  });
  return (request) => authorize(deps, request);
}
