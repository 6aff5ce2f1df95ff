import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AuthenticationError } from './errors';

/** The authenticated caller, as the authorizer (lambdas/authorizer, in the cloud and locally) describes it. */
export interface Caller {
  /** Stable subject id: a person's user id, or a machine client's id. Every item is keyed by it. */
  readonly sub: string;
  readonly scopes: readonly string[];
  readonly clientId: string | undefined;
  /** Cognito groups of the caller; empty for API keys. */
  readonly groups?: readonly string[];
  /** How the caller signed in: an OAuth access token, or a personal API key. */
  readonly authMethod?: 'oauth' | 'api_key';
  /** The API key's id when `authMethod` is `api_key`: usage is also counted per key. */
  readonly apiKeyId?: string;
}

const words = (value: unknown) => (typeof value === 'string' ? value.split(' ').filter(Boolean) : []);
const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);

/**
 * Reads the identity the authorizer attached (flat strings under `requestContext.authorizer`); a request without
 * one never reaches domain code. Events shaped like API Gateway's Cognito authorizer (`authorizer.claims`, in
 * recorded fixtures) are read the same way.
 */
export function callerOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Caller {
  const authorizer: Record<string, unknown> | null | undefined = event.requestContext.authorizer;
  const claims = (authorizer?.claims as Record<string, unknown> | undefined) ?? authorizer ?? {};
  const sub = text(claims.sub);
  if (!sub) throw new AuthenticationError();
  const authMethod = claims.auth_method === 'api_key' ? 'api_key' : 'oauth';
  const apiKeyId = authMethod === 'api_key' ? text(claims.api_key_id) : undefined;
  return {
    sub,
    scopes: words(claims.scope),
    clientId: text(claims.client_id),
    groups: words(claims.groups),
    authMethod,
    ...(apiKeyId ? { apiKeyId } : {}),
  };
}
