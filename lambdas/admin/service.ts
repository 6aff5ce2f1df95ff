import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import type { AuditDeps } from '../audit/record';
import type {
  AdminActionResult,
  AdminAuditLog,
  AdminUsageReport,
  AdminUserDetail,
  AdminUserList,
  QuotaOverride,
} from '../contracts/admin';
import type { Caller } from '../shared/auth';
import { NotFoundError } from '../shared/errors';
import { auditAdminAction, auditDay } from './audit-log';
import type { UserDirectory } from './directory';
import type { ModelPrices } from './prices';
import { clearQuotaOverride, findQuotaOverride, setQuotaOverride } from './quota-override';
import { fromDay, scanUsage, usageReport, userDetail, usersReport } from './reports';
import { findSuspension, liftSuspension, suspendAccount } from './suspension';

/** The admin API's operations, each taking the administrator (`Caller`) and auditing what it changes. */
export interface AdminDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly prices: ModelPrices;
  readonly directory: UserDirectory;
  readonly auditRetentionDays: number;
  readonly now?: () => Date;
}

const nowOf = (deps: AdminDeps) => (deps.now ?? (() => new Date()))();
const auditDeps = (deps: AdminDeps): AuditDeps => ({
  dynamo: deps.db,
  tableName: deps.tableName,
  retentionDays: deps.auditRetentionDays,
  ...(deps.now ? { now: deps.now } : {}),
});

function daysOf(now: Date, count: number): string[] {
  const from = fromDay(now, count);
  return Array.from({ length: count }, (_, index) =>
    new Date(Date.parse(from) + index * 86_400_000).toISOString().slice(0, 10),
  );
}

export async function listUsers(deps: AdminDeps, days: number): Promise<z.infer<typeof AdminUserList>> {
  const from = fromDay(nowOf(deps), days);
  const [directory, scan] = await Promise.all([deps.directory.list(), scanUsage(deps, from)]);
  return { object: 'list', from, data: usersReport(directory, scan, deps.prices) };
}

export async function getUser(
  deps: AdminDeps,
  sub: string,
  days: number,
): Promise<z.infer<typeof AdminUserDetail>> {
  const from = fromDay(nowOf(deps), days);
  const [directory, suspension, quotaOverride] = await Promise.all([
    deps.directory.list(),
    findSuspension(deps, sub),
    findQuotaOverride(deps, sub),
  ]);
  const known = directory.find((user) => user.id === sub) ?? {
    id: sub,
    email: null,
    enabled: true,
    createdAt: null,
  };
  const detail = await userDetail(
    deps,
    known,
    { suspendedAt: suspension?.suspendedAt ?? null, quotaOverride },
    from,
  );
  // Nobody by that id: neither in the directory, nor with anything on record.
  if (
    !directory.some((user) => user.id === sub) &&
    !suspension &&
    !quotaOverride &&
    detail.last_active === null &&
    detail.conversations === 0 &&
    detail.files === 0
  ) {
    throw new NotFoundError('user', 'id');
  }
  return detail;
}

export async function suspendUser(
  deps: AdminDeps,
  admin: Caller,
  sub: string,
  requestId: string,
): Promise<z.infer<typeof AdminActionResult>> {
  // The table item first: the authorizer refuses the account from the next request on, whatever Cognito does.
  await suspendAccount(deps, { sub, suspendedAt: nowOf(deps).toISOString(), suspendedBy: admin.sub });
  await deps.directory.disable(sub);
  await auditAdminAction(auditDeps(deps), admin, 'suspend', sub, requestId);
  return { id: sub, object: 'admin.user', status: 'suspended' };
}

export async function unsuspendUser(
  deps: AdminDeps,
  admin: Caller,
  sub: string,
  requestId: string,
): Promise<z.infer<typeof AdminActionResult>> {
  await deps.directory.enable(sub);
  await liftSuspension(deps, sub);
  await auditAdminAction(auditDeps(deps), admin, 'unsuspend', sub, requestId);
  return { id: sub, object: 'admin.user', status: 'active' };
}

export async function overrideQuota(
  deps: AdminDeps,
  admin: Caller,
  sub: string,
  override: QuotaOverride | undefined,
  requestId: string,
): Promise<QuotaOverride | null> {
  if (override) await setQuotaOverride(deps, sub, override, admin.sub, nowOf(deps));
  else await clearQuotaOverride(deps, sub);
  await auditAdminAction(auditDeps(deps), admin, override ? 'quota.set' : 'quota.clear', sub, requestId);
  return override ?? null;
}

export async function usage(deps: AdminDeps, days: number): Promise<z.infer<typeof AdminUsageReport>> {
  const now = nowOf(deps);
  const from = fromDay(now, days);
  return usageReport(deps, await scanUsage(deps, from), from, daysOf(now, days));
}

export async function auditLog(
  deps: AdminDeps,
  day: string | undefined,
): Promise<z.infer<typeof AdminAuditLog>> {
  const date = day ?? nowOf(deps).toISOString().slice(0, 10);
  return { object: 'list', day: date, data: await auditDay(auditDeps(deps), date) };
}
