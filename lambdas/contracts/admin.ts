import * as z from 'zod';

/**
 * The admin API (`/v1/admin/*`, members of the `admin` group only): people and their usage, suspension, quota
 * overrides, usage and cost reports, the audit log. It reports counts and ids, never conversation or file content.
 */
const day = z.iso.date().meta({ description: 'UTC day, YYYY-MM-DD.' });
const count = z.number().int().min(0);

export const UserId = z.string().min(1).max(128);

/**
 * Prices of the cost report by model id (`*`: any other model), per million tokens: the `prices` setting,
 * handed to the admin function as MODEL_PRICES (lambdas/admin/prices.ts).
 */
export const ModelPrices = z.record(
  z.string().min(1),
  z.strictObject({ inputPerMillion: z.number().min(0), outputPerMillion: z.number().min(0) }),
);
export type ModelPrices = z.infer<typeof ModelPrices>;

export const AdminUsageTotals = z.object({
  requests: count,
  tokens_in: count,
  tokens_out: count,
  /** Cost from the configured prices (MODEL_PRICES), in the prices' currency. */
  cost: z.number().min(0),
});

export const AdminUser = z.object({
  id: UserId,
  object: z.literal('admin.user'),
  email: z.string().nullable(),
  status: z.enum(['active', 'suspended', 'disabled']),
  created_at: z.number().int().nullable().meta({ description: 'Unix seconds; null when unknown (local).' }),
  last_active: day.nullable(),
  usage: AdminUsageTotals,
});

export const AdminUserList = z.object({ object: z.literal('list'), from: day, data: z.array(AdminUser) });

/** What `POST /v1/admin/users/{id}/{action}` does. */
export const AdminUserAction = z.enum(['suspend', 'unsuspend', 'quota']);

/** A user's own limits in place of the configured ones; `null` (or absent) keeps the default. */
export const QuotaOverrideRequest = z.strictObject({
  requests_per_minute: z.number().int().min(0).max(1_000_000).nullable().optional(),
  tokens_per_day: z.number().int().min(0).max(1_000_000_000).nullable().optional(),
});
export const QuotaOverride = z.object({
  requests_per_minute: z.number().int().min(0).optional(),
  tokens_per_day: z.number().int().min(0).optional(),
});
export type QuotaOverride = z.infer<typeof QuotaOverride>;

export const AdminUsageRow = AdminUsageTotals.extend({ date: day, model: z.string() });

export const AdminUserDetail = AdminUser.extend({
  object: z.literal('admin.user.detail'),
  conversations: count,
  files: count,
  suspended_at: z.string().nullable(),
  quota_override: z
    .object({ requests_per_minute: count.optional(), tokens_per_day: count.optional() })
    .nullable(),
  days: z.array(AdminUsageRow),
});

export const AdminUsageQuery = z.object({
  days: z.coerce.number().int().min(1).max(90).default(30),
  format: z.enum(['json', 'csv']).default('json'),
});

export const AdminUsageReport = z.object({
  object: z.literal('admin.usage'),
  from: day,
  totals: AdminUsageTotals,
  by_day: z.array(AdminUsageTotals.extend({ date: day })),
  by_model: z.array(AdminUsageTotals.extend({ model: z.string() })),
  top_users: z.array(AdminUsageTotals.extend({ id: UserId })),
  /** Refused requests (auth failures, moderation blocks) per day, from the audit log. */
  refusals_by_day: z.array(z.object({ date: day, count })),
});

export const AdminAuditQuery = z.object({
  day: day.optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

export const AdminAuditRecord = z.object({
  occurred_at: z.string(),
  type: z.string(),
  subject: z.string().meta({ description: 'Pseudonymised subject (sha256), as the audit log keeps it.' }),
  status: z.string(),
  code: z.string().nullable(),
  action: z.string().nullable(),
  target: z.string().nullable(),
});

export const AdminAuditLog = z.object({
  object: z.literal('list'),
  day,
  data: z.array(AdminAuditRecord),
});

export const AdminActionResult = z.object({
  id: UserId,
  object: z.literal('admin.user'),
  status: z.string(),
});
