import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import type {
  AdminUsageReport,
  AdminUsageRow,
  AdminUser,
  AdminUserDetail,
  QuotaOverride,
} from '../contracts/admin';
import { AUDIT_EVENT_TYPES, EventType } from '../contracts/events';
import { keys } from '../contracts/keys';
import type { DirectoryUser } from './directory';
import { costOf, type ModelPrices } from './prices';

/**
 * The admin API's reports, read from the usage aggregates (`USAGE#<day>` per user, `MODELUSAGE#<day>#<model>`
 * per user and model), the suspension items and the audit log. Counts and ids only, never content. The users
 * and usage reports scan the table for those items (bounded pages); fine for the thousands of users one
 * deployment serves, and the place to add a usage index when that stops being true.
 */
export interface ReportDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly prices: ModelPrices;
}

/** Pages of one scan or query at most: every loop is bounded. */
const MAX_PAGES = 200;
/** Models reported under this name when a day's usage predates the per-model aggregates. */
export const UNKNOWN_MODEL = 'unknown';

export interface UsageRow {
  readonly sub: string;
  readonly date: string;
  /** Absent on the user's daily total. */
  readonly model?: string;
  readonly requests: number;
  readonly tokensIn: number;
  readonly tokensOut: number;
}

type Totals = z.infer<typeof AdminUsageReport>['totals'];
const num = (value: unknown) => (typeof value === 'number' ? value : 0);

/** The first day of a window of `days` days ending today (UTC). */
export function fromDay(now: Date, days: number): string {
  return new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
}

function usageRow(item: Record<string, unknown>): UsageRow {
  return {
    sub: String(item.pk).slice(keys.userPartition('').length),
    date: String(item.date),
    ...(typeof item.model === 'string' ? { model: item.model } : {}),
    requests: num(item.requests),
    tokensIn: num(item.tokensIn),
    tokensOut: num(item.tokensOut),
  };
}

async function paginate(
  db: DynamoDBDocumentClient,
  command: (start: Record<string, unknown> | undefined) => ScanCommand | QueryCommand,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await db.send(command(start) as QueryCommand);
    items.push(...((result.Items ?? []) as Record<string, unknown>[]));
    start = result.LastEvaluatedKey;
    if (!start) break;
  }
  return items;
}

export interface TableScan {
  readonly usage: UsageRow[];
  /** Suspended subjects and when they were suspended. */
  readonly suspended: ReadonlyMap<string, string>;
}

/** Usage items since `from` and every suspension item, in one scan. */
export async function scanUsage(deps: ReportDeps, from: string): Promise<TableScan> {
  const items = await paginate(
    deps.db,
    (start) =>
      new ScanCommand({
        TableName: deps.tableName,
        FilterExpression:
          '((begins_with(sk, :usage) OR begins_with(sk, :model)) AND #date >= :from) OR begins_with(pk, :suspension)',
        ProjectionExpression: 'pk, sk, #date, #model, requests, tokensIn, tokensOut, suspendedAt',
        ExpressionAttributeNames: { '#date': 'date', '#model': 'model' },
        ExpressionAttributeValues: {
          ':usage': 'USAGE#',
          ':model': keys.modelUsagePrefix,
          ':from': from,
          ':suspension': keys.suspensionPrefix,
        },
        ExclusiveStartKey: start,
      }),
  );
  const suspended = new Map<string, string>();
  const usage: UsageRow[] = [];
  for (const item of items) {
    const pk = String(item.pk);
    if (pk.startsWith(keys.suspensionPrefix)) {
      suspended.set(pk.slice(keys.suspensionPrefix.length), String(item.suspendedAt));
    } else usage.push(usageRow(item));
  }
  return { usage, suspended };
}

function emptyTotals(): { requests: number; tokens_in: number; tokens_out: number; cost: number } {
  return { requests: 0, tokens_in: 0, tokens_out: 0, cost: 0 };
}

/**
 * Sums rows into totals: requests and tokens from the daily totals (`model` absent), cost from the per-model
 * rows (each at its model's price), or from the totals at the `*` price where a day has no per-model rows.
 */
function totalsOf(rows: readonly UsageRow[], prices: ModelPrices): Totals {
  const totals = emptyTotals();
  const pricedDays = new Set(rows.filter((row) => row.model).map((row) => `${row.sub}#${row.date}`));
  for (const row of rows) {
    if (row.model) {
      totals.cost += costOf(prices, row.model, row.tokensIn, row.tokensOut);
      continue;
    }
    totals.requests += row.requests;
    totals.tokens_in += row.tokensIn;
    totals.tokens_out += row.tokensOut;
    if (!pricedDays.has(`${row.sub}#${row.date}`))
      totals.cost += costOf(prices, UNKNOWN_MODEL, row.tokensIn, row.tokensOut);
  }
  totals.cost = Math.round(totals.cost * 1e6) / 1e6;
  return totals;
}

/** Per-model rows' own totals (requests and tokens of that model only). */
function modelTotals(rows: readonly UsageRow[], prices: ModelPrices): Totals {
  const totals = emptyTotals();
  for (const row of rows) {
    totals.requests += row.requests;
    totals.tokens_in += row.tokensIn;
    totals.tokens_out += row.tokensOut;
    totals.cost += costOf(prices, row.model ?? UNKNOWN_MODEL, row.tokensIn, row.tokensOut);
  }
  totals.cost = Math.round(totals.cost * 1e6) / 1e6;
  return totals;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const name = key(row);
    groups.set(name, [...(groups.get(name) ?? []), row]);
  }
  return groups;
}

const lastActive = (rows: readonly UsageRow[]) =>
  rows.reduce<string | null>((last, row) => (last === null || row.date > last ? row.date : last), null);

/** Everyone the directory knows, and everyone with usage in the window, each with their usage. */
export function usersReport(
  directory: readonly DirectoryUser[],
  scan: TableScan,
  prices: ModelPrices,
): z.infer<typeof AdminUser>[] {
  const bySub = groupBy(scan.usage, (row) => row.sub);
  const known = new Map(directory.map((user) => [user.id, user]));
  for (const sub of [...bySub.keys(), ...scan.suspended.keys()]) {
    if (!known.has(sub)) known.set(sub, { id: sub, email: null, enabled: true, createdAt: null });
  }
  return [...known.values()].map((user) => {
    const rows = bySub.get(user.id) ?? [];
    return {
      id: user.id,
      object: 'admin.user' as const,
      email: user.email,
      status: scan.suspended.has(user.id) ? 'suspended' : user.enabled ? 'active' : 'disabled',
      created_at: user.createdAt,
      last_active: lastActive(rows),
      usage: totalsOf(rows, prices),
    };
  });
}

/** Usage per day, per model and per user over the window, and refusals per day from the audit log. */
export async function usageReport(
  deps: ReportDeps,
  scan: TableScan,
  from: string,
  days: readonly string[],
): Promise<z.infer<typeof AdminUsageReport>> {
  const totalsRows = scan.usage.filter((row) => !row.model);
  const modelRows = scan.usage.filter((row) => row.model);
  const byDay = groupBy(scan.usage, (row) => row.date);
  const topUsers = [...groupBy(scan.usage, (row) => row.sub)]
    .map(([id, rows]) => ({ id, ...totalsOf(rows, deps.prices) }))
    .sort((a, b) => b.tokens_in + b.tokens_out - (a.tokens_in + a.tokens_out))
    .slice(0, 10);
  return {
    object: 'admin.usage',
    from,
    totals: totalsOf(scan.usage, deps.prices),
    by_day: days.map((date) => ({ date, ...totalsOf(byDay.get(date) ?? [], deps.prices) })),
    by_model: [...groupBy(modelRows, (row) => row.model ?? UNKNOWN_MODEL)].map(([model, rows]) => ({
      model,
      ...modelTotals(rows, deps.prices),
    })),
    top_users: totalsRows.length > 0 ? topUsers : [],
    refusals_by_day: await Promise.all(
      days.map(async (date) => ({ date, count: await countRefusals(deps, date) })),
    ),
  };
}

const REFUSALS = [EventType.authFailed, EventType.moderationBlocked].filter((type) =>
  AUDIT_EVENT_TYPES.has(type),
);

/** Counts what a query matches, page by page (bounded). */
async function countQuery(
  deps: ReportDeps,
  input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName' | 'Select' | 'ExclusiveStartKey'>,
): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await deps.db.send(
      new QueryCommand({ ...input, TableName: deps.tableName, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += result.Count ?? 0;
    start = result.LastEvaluatedKey;
    if (!start) break;
  }
  return count;
}

const countRefusals = (deps: ReportDeps, day: string) =>
  countQuery(deps, {
    KeyConditionExpression: 'pk = :pk',
    FilterExpression: '#type IN (:a, :b)',
    ExpressionAttributeNames: { '#type': 'type' },
    ExpressionAttributeValues: { ':pk': `AUDIT#${day}`, ':a': REFUSALS[0], ':b': REFUSALS[1] },
  });

const countItems = (deps: ReportDeps, sub: string, prefix: string) =>
  countQuery(deps, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': keys.userPartition(sub), ':prefix': prefix },
  });

/** One user's usage per day and model, and how many conversations and files they keep (never their content). */
export async function userDetail(
  deps: ReportDeps,
  user: DirectoryUser,
  state: { suspendedAt: string | null; quotaOverride: QuotaOverride | undefined },
  from: string,
): Promise<z.infer<typeof AdminUserDetail>> {
  const query = (prefix: string) =>
    paginate(
      deps.db,
      (start) =>
        new QueryCommand({
          TableName: deps.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': keys.userPartition(user.id),
            ':from': `${prefix}${from}`,
            ':to': `${prefix}\uffff`,
          },
          ExclusiveStartKey: start,
        }),
    );
  const [totals, models, conversations, files] = await Promise.all([
    query('USAGE#'),
    query(keys.modelUsagePrefix),
    countItems(deps, user.id, 'CONV#'),
    countItems(deps, user.id, keys.filePrefix),
  ]);
  const rows = [...totals, ...models].map(usageRow);
  const byModelDay: z.infer<typeof AdminUsageRow>[] = models.map(usageRow).map((row) => ({
    date: row.date,
    model: row.model ?? UNKNOWN_MODEL,
    ...modelTotals([row], deps.prices),
  }));
  return {
    id: user.id,
    object: 'admin.user.detail',
    email: user.email,
    status: state.suspendedAt ? 'suspended' : user.enabled ? 'active' : 'disabled',
    created_at: user.createdAt,
    last_active: lastActive(rows),
    usage: totalsOf(rows, deps.prices),
    conversations,
    files,
    suspended_at: state.suspendedAt,
    quota_override: state.quotaOverride ?? null,
    days: byModelDay.sort((a, b) => a.date.localeCompare(b.date) || a.model.localeCompare(b.model)),
  };
}
