/**
 * The admin console's view of the admin API (`/v1/admin/…`, lambdas/contracts/admin.ts), through the app's
 * ApiClient (session, refresh, error objects).
 */
import type { ApiClient } from './api';

export interface UsageTotals {
  readonly requests: number;
  readonly tokens_in: number;
  readonly tokens_out: number;
  readonly cost: number;
}

export interface AdminUser {
  readonly id: string;
  readonly email: string | null;
  readonly status: 'active' | 'suspended' | 'disabled';
  readonly created_at: number | null;
  readonly last_active: string | null;
  readonly usage: UsageTotals;
}

export interface AdminUserDetail extends AdminUser {
  readonly conversations: number;
  readonly files: number;
  readonly suspended_at: string | null;
  readonly quota_override: { requests_per_minute?: number; tokens_per_day?: number } | null;
  readonly days: readonly (UsageTotals & { date: string; model: string })[];
}

export interface UsageReport {
  readonly from: string;
  readonly totals: UsageTotals;
  readonly by_day: readonly (UsageTotals & { date: string })[];
  readonly by_model: readonly (UsageTotals & { model: string })[];
  readonly top_users: readonly (UsageTotals & { id: string })[];
  readonly refusals_by_day: readonly { date: string; count: number }[];
}

export interface AuditRecord {
  readonly occurred_at: string;
  readonly type: string;
  readonly subject: string;
  readonly status: string;
  readonly code: string | null;
  readonly action: string | null;
  readonly target: string | null;
}

export interface FeedbackCounts {
  readonly up: number;
  readonly down: number;
  /** up ÷ (up + down); null without ratings. */
  readonly up_rate: number | null;
}

export interface FeedbackItem {
  readonly user_id: string;
  readonly conversation_id: string;
  readonly message_id: string;
  readonly rating: 'up' | 'down';
  readonly comment: string | null;
  readonly model: string | null;
  /** The rated answer's first 1,000 characters. */
  readonly message: string;
  readonly rated_at: string;
}

export interface FeedbackReport {
  readonly data: readonly FeedbackItem[];
  readonly next_cursor: string | null;
  readonly rates: FeedbackCounts & {
    readonly days: readonly (FeedbackCounts & { date: string })[];
    readonly models: readonly (FeedbackCounts & { model: string })[];
  };
}

/** The `admin` group, as the access token's `cognito:groups` claim names it. */
export const ADMIN_GROUP = 'admin';

/** Whether the access token's holder is an administrator (the console is shown to them only). */
export function isAdminToken(token: string): boolean {
  const payload = token.split('.')[1];
  if (!payload) return false;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const groups = claims['cognito:groups'];
    return Array.isArray(groups) && groups.includes(ADMIN_GROUP);
  } catch {
    return false;
  }
}

const id = (value: string) => encodeURIComponent(value);

export class AdminApi {
  constructor(private readonly api: ApiClient) {}

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    return (await (await this.api.request(path, init)).json()) as T;
  }

  async users(days = 30): Promise<readonly AdminUser[]> {
    return (await this.json<{ data: AdminUser[] }>(`/admin/users?days=${days}`)).data;
  }

  user(userId: string, days = 30): Promise<AdminUserDetail> {
    return this.json(`/admin/users/${id(userId)}?days=${days}`);
  }

  async setSuspended(userId: string, suspended: boolean): Promise<void> {
    await this.api.request(`/admin/users/${id(userId)}/${suspended ? 'suspend' : 'unsuspend'}`, {
      method: 'POST',
    });
  }

  usage(days = 30): Promise<UsageReport> {
    return this.json(`/admin/usage?days=${days}`);
  }

  async audit(day: string): Promise<readonly AuditRecord[]> {
    return (await this.json<{ data: AuditRecord[] }>(`/admin/audit?day=${day}`)).data;
  }

  /** Ratings of answers, newest first (a page from `cursor`), with the rates per day and model. */
  feedback(
    query: { days?: number; rating?: 'up' | 'down'; cursor?: string | null } = {},
  ): Promise<FeedbackReport> {
    const params = new URLSearchParams({ days: String(query.days ?? 30), limit: '25' });
    if (query.rating) params.set('rating', query.rating);
    if (query.cursor) params.set('cursor', query.cursor);
    return this.json(`/admin/feedback?${params}`);
  }

  /** A CSV export (`users`, `usage` or `audit`), as a file to save. */
  async csv(path: string): Promise<Blob> {
    return (await this.api.request(`${path}${path.includes('?') ? '&' : '?'}format=csv`)).blob();
  }
}
