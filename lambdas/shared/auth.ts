import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AuthenticationError } from './errors';

/** The authenticated caller, as the API Gateway Cognito authorizer (or the local adapter) describes it. */
export interface Caller {
  /** Stable subject id: a person's user id, or a machine client's id. Every item is keyed by it. */
  readonly sub: string;
  readonly scopes: readonly string[];
  readonly clientId: string | undefined;
}

/** Reads the verified claims the authorizer attached; a request without them never reaches domain code. */
export function callerOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Caller {
  const claims: Record<string, unknown> | undefined = event.requestContext.authorizer?.claims;
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0) throw new AuthenticationError();
  const scope = typeof claims?.scope === 'string' ? claims.scope : '';
  const clientId = typeof claims?.client_id === 'string' ? claims.client_id : undefined;
  return { sub, scopes: scope.split(' ').filter(Boolean), clientId };
}
