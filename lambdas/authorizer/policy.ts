import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { DENIAL_CODE_KEY, type RouteDefinition } from '../contracts/routes';
import { type AuthDecision, authorizerContext } from './index';

/**
 * The Lambda authorizer's answer for API Gateway. API Gateway caches it per Authorization header for every
 * method, so it allows every route the caller may call, not only the one asked for, and denies the one asked
 * for when that is not among them. A credential that did not verify gets no policy: `Unauthorized` (401).
 */
export class Unauthorized extends Error {
  constructor() {
    // The exact message API Gateway maps to a 401.
    super('Unauthorized');
  }
}

/** `arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>` of a route, parameters as `*`. */
export function routeArn(methodArn: string, route: RouteDefinition): string {
  const [apiArn = methodArn, stage = '*'] = methodArn.split('/');
  return `${apiArn}/${stage}/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}`;
}

export function authorizerResult(decision: AuthDecision, methodArn: string): APIGatewayAuthorizerResult {
  const identity = decision.identity;
  if (!identity || (!decision.ok && decision.status === 401)) throw new Unauthorized();
  const statements: APIGatewayAuthorizerResult['policyDocument']['Statement'] = [];
  if (decision.allowed.length > 0) {
    statements.push({
      Effect: 'Allow',
      Action: 'execute-api:Invoke',
      Resource: decision.allowed.map((route) => routeArn(methodArn, route)),
    });
  }
  if (!decision.ok) statements.push({ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: methodArn });
  return {
    principalId: identity.sub,
    policyDocument: { Version: '2012-10-17', Statement: statements },
    // The gateway's AccessDenied response names this code (lib/constructs/chat-api.ts): a Deny of a suspended
    // account says so; any other 403 (a cached policy without the asked-for route included) is about scope.
    context: {
      ...authorizerContext(identity),
      [DENIAL_CODE_KEY]:
        !decision.ok && decision.reason === 'account_suspended' ? 'account_suspended' : 'insufficient_scope',
    },
  };
}
