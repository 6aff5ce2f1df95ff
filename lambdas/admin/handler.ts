import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  AdminAuditQuery,
  AdminUsageQuery,
  AdminUserAction,
  QuotaOverrideRequest,
  UserId,
} from '../contracts/admin';
import { EnvName } from '../contracts/env';
import { AdminFeedbackQuery } from '../contracts/feedback';
import { ADMIN_GROUP } from '../contracts/routes';
import { callerOf } from '../shared/auth';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { MethodNotAllowedError, NotFoundError, PermissionError } from '../shared/errors';
import { apiMiddlewares, baseHeaders, json } from '../shared/http';
import { parseJsonBody, parsePathParam, parseQuery } from '../validation';
import { toCsv } from './csv';
import { cognitoDirectory, usageOnlyDirectory } from './directory';
import { feedbackReport } from './feedback';
import { parseModelPrices } from './prices';
import * as admin from './service';

/** `/v1/admin/*`: people, usage, costs, suspension, quota overrides and the audit log, for the `admin` group. */
let deps: admin.AdminDeps | undefined;
function adminDeps(): admin.AdminDeps {
  if (deps) return deps;
  const settings = config();
  const userPoolId = process.env[EnvName.userPoolId];
  deps = {
    db: documentClient(),
    tableName: required(settings.tableName, EnvName.tableName),
    prices: parseModelPrices(process.env[EnvName.modelPrices]),
    directory: userPoolId
      ? cognitoDirectory(new CognitoIdentityProviderClient({}), userPoolId)
      : usageOnlyDirectory,
    auditRetentionDays: settings.auditRetentionDays,
  };
  return deps;
}

const csv = (event: APIGatewayProxyEvent, name: string, body: string): APIGatewayProxyResult => ({
  statusCode: 200,
  headers: {
    ...baseHeaders(event),
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}.csv"`,
  },
  body,
});

const UsersQuery = AdminUsageQuery;

async function route(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const caller = callerOf(event);
  // The authorizer allows admin routes to the group only; this keeps the rule where the data is served, too.
  if (!caller.groups?.includes(ADMIN_GROUP)) {
    throw new PermissionError(`Only members of the "${ADMIN_GROUP}" group may call the admin API.`);
  }
  const requestId = event.requestContext.requestId;
  const key = `${event.httpMethod} ${event.resource}`;
  const id = () => parsePathParam(event.pathParameters, 'id', UserId);
  switch (key) {
    case 'GET /v1/admin/users': {
      const query = parseQuery(event.queryStringParameters, UsersQuery);
      const list = await admin.listUsers(adminDeps(), query.days);
      if (query.format === 'json') return json(event, 200, list);
      const rows = list.data.map((user) => ({
        id: user.id,
        email: user.email,
        status: user.status,
        last_active: user.last_active,
        requests: user.usage.requests,
        tokens_in: user.usage.tokens_in,
        tokens_out: user.usage.tokens_out,
        cost: user.usage.cost,
      }));
      return csv(
        event,
        `users-${list.from}`,
        toCsv(['id', 'email', 'status', 'last_active', 'requests', 'tokens_in', 'tokens_out', 'cost'], rows),
      );
    }
    case 'GET /v1/admin/users/{id}': {
      const query = parseQuery(event.queryStringParameters, UsersQuery.pick({ days: true }));
      return json(event, 200, await admin.getUser(adminDeps(), id(), query.days));
    }
    case 'POST /v1/admin/users/{id}/{action}': {
      const target = id();
      const action = AdminUserAction.safeParse(event.pathParameters?.action);
      if (!action.success) throw new NotFoundError('admin action', 'action');
      if (action.data === 'suspend') {
        return json(event, 200, await admin.suspendUser(adminDeps(), caller, target, requestId));
      }
      if (action.data === 'unsuspend') {
        return json(event, 200, await admin.unsuspendUser(adminDeps(), caller, target, requestId));
      }
      const request = parseJsonBody(event, QuotaOverrideRequest);
      const override = {
        ...(typeof request.requests_per_minute === 'number'
          ? { requests_per_minute: request.requests_per_minute }
          : {}),
        ...(typeof request.tokens_per_day === 'number' ? { tokens_per_day: request.tokens_per_day } : {}),
      };
      const saved = await admin.overrideQuota(
        adminDeps(),
        caller,
        target,
        Object.keys(override).length > 0 ? override : undefined,
        requestId,
      );
      return json(event, 200, { id: target, object: 'admin.user', quota_override: saved });
    }
    case 'GET /v1/admin/usage': {
      const query = parseQuery(event.queryStringParameters, AdminUsageQuery);
      const report = await admin.usage(adminDeps(), query.days);
      if (query.format === 'json') return json(event, 200, report);
      return csv(
        event,
        `usage-${report.from}`,
        toCsv(['date', 'requests', 'tokens_in', 'tokens_out', 'cost'], report.by_day),
      );
    }
    case 'GET /v1/admin/audit': {
      const query = parseQuery(event.queryStringParameters, AdminAuditQuery);
      const log = await admin.auditLog(adminDeps(), query.day);
      if (query.format === 'json') return json(event, 200, log);
      return csv(
        event,
        `audit-${log.day}`,
        toCsv(['occurred_at', 'type', 'subject', 'status', 'code', 'action', 'target'], log.data),
      );
    }
    case 'GET /v1/admin/feedback': {
      const query = parseQuery(event.queryStringParameters, AdminFeedbackQuery);
      return json(event, 200, await feedbackReport(adminDeps(), query));
    }
    default:
      throw new MethodNotAllowedError(event.httpMethod);
  }
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler(route);
