/** The admin API's operations for docs/openapi.json (scripts/openapi.ts), from lambdas/contracts/admin.ts. */
import * as z from 'zod';
import type { ZodOpenApiOperationObject } from 'zod-openapi';
import {
  AdminActionResult,
  AdminAuditLog,
  AdminAuditQuery,
  AdminUsageQuery,
  AdminUsageReport,
  AdminUserAction,
  AdminUserDetail,
  AdminUserList,
  QuotaOverrideRequest,
  UserId,
} from '../lambdas/contracts/admin';
import { ErrorResponse } from '../lambdas/contracts/api';
import { AdminFeedbackQuery, AdminFeedbackReport } from '../lambdas/contracts/feedback';

const jsonContent = (schema: z.ZodType) => ({ 'application/json': { schema } });
const csvContent = { 'text/csv': { schema: z.string() } };
const errors = {
  '400': {
    description: 'Invalid request (the `param` names the field).',
    content: jsonContent(ErrorResponse),
  },
  '401': { description: 'Missing, invalid or expired access token.', content: jsonContent(ErrorResponse) },
  '403': {
    description: 'Not a member of the `admin` group (API keys never are), or the account is suspended.',
    content: jsonContent(ErrorResponse),
  },
};
const userParam = z.object({ id: UserId.meta({ description: 'The user’s `sub`.' }) });

export const ADMIN_OPERATIONS: Record<string, ZodOpenApiOperationObject> = {
  'GET /v1/admin/users': {
    operationId: 'adminListUsers',
    summary: 'People (Cognito) merged with their usage over the last `days` days; `format=csv` exports it.',
    requestParams: { query: AdminUsageQuery },
    responses: {
      '200': { description: 'Users.', content: { ...jsonContent(AdminUserList), ...csvContent } },
      ...errors,
    },
  },
  'GET /v1/admin/users/{id}': {
    operationId: 'adminGetUser',
    summary:
      'One user: usage per day and model, conversation and file counts (never content), suspension, quota.',
    requestParams: { path: userParam, query: AdminUsageQuery.pick({ days: true }) },
    responses: {
      '200': { description: 'The user.', content: jsonContent(AdminUserDetail) },
      '404': { description: 'No such user.', content: jsonContent(ErrorResponse) },
      ...errors,
    },
  },
  'POST /v1/admin/users/{id}/{action}': {
    operationId: 'adminActOnUser',
    summary:
      '`suspend` (every token and API key of the user is refused with 403 `account_suspended`; in the cloud Cognito also disables the user and signs them out everywhere), `unsuspend`, or `quota` (set the user’s own limits; nulls restore the defaults). Audited.',
    requestParams: { path: userParam.extend({ action: AdminUserAction }) },
    requestBody: { required: false, content: jsonContent(QuotaOverrideRequest) },
    responses: {
      '200': { description: 'Done.', content: jsonContent(AdminActionResult) },
      '404': { description: 'Unknown action.', content: jsonContent(ErrorResponse) },
      ...errors,
    },
  },
  'GET /v1/admin/usage': {
    operationId: 'adminUsage',
    summary:
      'Usage and cost per day, model and user, top users, refusals per day; `format=csv` exports per day.',
    requestParams: { query: AdminUsageQuery },
    responses: {
      '200': { description: 'The report.', content: { ...jsonContent(AdminUsageReport), ...csvContent } },
      ...errors,
    },
  },
  'GET /v1/admin/audit': {
    operationId: 'adminAuditLog',
    summary: 'The audit log of one UTC day (default today), oldest first; `format=csv` exports it.',
    requestParams: { query: AdminAuditQuery },
    responses: {
      '200': { description: 'Records.', content: { ...jsonContent(AdminAuditLog), ...csvContent } },
      ...errors,
    },
  },
  'GET /v1/admin/feedback': {
    operationId: 'adminFeedback',
    summary:
      'Every user’s ratings of answers over the last `days` days, newest first and paged (with the rated answer’s first 1,000 characters and the comment), and the up/down counts and rates per day and model.',
    requestParams: { query: AdminFeedbackQuery },
    responses: {
      '200': { description: 'Ratings and rates.', content: jsonContent(AdminFeedbackReport) },
      ...errors,
    },
  },
};
