import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import {
  AdminApi,
  type AdminUser,
  type AdminUserDetail,
  type AuditRecord,
  type UsageReport,
  type UsageTotals,
} from '../admin-api';
import type { ApiClient } from '../api';
import { describeProblem } from '../errors';
import { AdminFeedback } from './AdminFeedback';
import { PageHead } from './PageHead';
import { UsageChart } from './UsageChart';

type Tab = 'users' | 'usage' | 'audit' | 'feedback';
type SortKey = 'id' | 'status' | 'last_active' | 'requests' | 'tokens' | 'cost';

const number = (value: number) => value.toLocaleString();
const money = (value: number) => value.toLocaleString(undefined, { maximumFractionDigits: 4 });
const today = () => new Date().toISOString().slice(0, 10);

function sortValue(user: AdminUser, key: SortKey): string | number {
  if (key === 'requests') return user.usage.requests;
  if (key === 'tokens') return user.usage.tokens_in + user.usage.tokens_out;
  if (key === 'cost') return user.usage.cost;
  return user[key] ?? '';
}

function save(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  link.click();
  URL.revokeObjectURL(url);
}

/** Usage rows: the given leading cells, then requests, tokens and cost. */
function UsageTable(props: {
  readonly labels: readonly string[];
  readonly rows: readonly (UsageTotals & { readonly key: string; readonly cells: readonly string[] })[];
}) {
  return (
    <table class="keys-table admin-table">
      <thead>
        <tr>
          {[...props.labels, 'Requests', 'Tokens in / out', 'Cost'].map((label) => (
            <th key={label} scope="col">
              {label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={row.key}>
            {row.cells.map((cell, index) => (
              <td key={props.labels[index]}>{cell}</td>
            ))}
            <td>{number(row.requests)}</td>
            <td>
              {number(row.tokens_in)} / {number(row.tokens_out)}
            </td>
            <td>{money(row.cost)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The admin console (members of the `admin` group): users with their usage, a user's page, usage over time, the audit log. */
export function AdminPage(props: {
  readonly api: ApiClient;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
  readonly notify: (message: string) => void;
}) {
  const admin = useMemo(() => new AdminApi(props.api), [props.api]);
  const [tab, setTab] = useState<Tab>('users');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [users, setUsers] = useState<readonly AdminUser[] | undefined>(undefined);
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: 'tokens',
    descending: true,
  });
  const [selected, setSelected] = useState<AdminUserDetail | undefined>(undefined);
  const [usage, setUsage] = useState<UsageReport | undefined>(undefined);
  const [auditDay, setAuditDay] = useState(today());
  const [audit, setAudit] = useState<readonly AuditRecord[] | undefined>(undefined);

  const guard = useCallback(async (work: () => Promise<void>) => {
    setProblem(undefined);
    try {
      await work();
    } catch (error) {
      setProblem(describeProblem(error).detail);
    }
  }, []);

  useEffect(() => {
    document.title = 'Admin · chatstack';
  }, []);
  useEffect(() => {
    if (tab === 'users') void guard(async () => setUsers(await admin.users()));
    if (tab === 'usage') void guard(async () => setUsage(await admin.usage()));
  }, [tab, admin, guard]);
  useEffect(() => {
    if (tab === 'audit') void guard(async () => setAudit(await admin.audit(auditDay)));
  }, [tab, auditDay, admin, guard]);

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const matching = (users ?? []).filter(
      (user) =>
        !needle ||
        user.id.toLowerCase().includes(needle) ||
        (user.email ?? '').toLowerCase().includes(needle),
    );
    const direction = sort.descending ? -1 : 1;
    return [...matching].sort((a, b) => {
      const [x, y] = [sortValue(a, sort.key), sortValue(b, sort.key)];
      return (x < y ? -1 : x > y ? 1 : 0) * direction;
    });
  }, [users, search, sort]);

  const openUser = (id: string) => guard(async () => setSelected(await admin.user(id)));
  const toggleSuspension = (user: AdminUserDetail) =>
    guard(async () => {
      await admin.setSuspended(user.id, user.status !== 'suspended');
      props.notify(
        user.status === 'suspended' ? `${user.id} can sign in again.` : `${user.id} is suspended.`,
      );
      setSelected(await admin.user(user.id));
      setUsers(await admin.users());
    });

  const header = (key: SortKey, label: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <button
        type="button"
        class="sort-button"
        onClick={() => setSort({ key, descending: sort.key === key ? !sort.descending : true })}
      >
        {label}
      </button>
    </th>
  );

  const userDays = useMemo(() => {
    if (!selected) return undefined;
    const byDay = new Map<string, number>();
    for (const row of selected.days)
      byDay.set(row.date, (byDay.get(row.date) ?? 0) + row.tokens_in + row.tokens_out);
    // The whole 30-day window, days without usage at 0: one day alone would stretch the time axis over years.
    const days = Array.from({ length: 30 }, (_, index) =>
      new Date(Date.now() - (29 - index) * 86_400_000).toISOString().slice(0, 10),
    );
    return {
      days,
      series: [{ label: 'Tokens', values: days.map((day) => byDay.get(day) ?? 0), color: '#2563eb' }],
    };
  }, [selected]);

  const usageSeries = useMemo(
    () =>
      usage && {
        days: usage.by_day.map((row) => row.date),
        series: [
          { label: 'Requests', values: usage.by_day.map((row) => row.requests), color: '#16a34a' },
          { label: 'Tokens in', values: usage.by_day.map((row) => row.tokens_in), color: '#2563eb' },
          { label: 'Tokens out', values: usage.by_day.map((row) => row.tokens_out), color: '#dc2626' },
        ],
      },
    [usage],
  );

  return (
    <main class="chat page" id="main" aria-labelledby="page-title" inert={props.sidebarOpen}>
      <PageHead
        title="Admin"
        titleId="page-title"
        sidebarOpen={props.sidebarOpen}
        onOpenSidebar={props.onOpenSidebar}
      />
      <div class="page-scroll">
        <div class="page-inner wide">
          <div class="admin-tabs" role="tablist" aria-label="Admin sections">
            {(['users', 'usage', 'audit', 'feedback'] as const).map((name) => (
              <button
                key={name}
                type="button"
                role="tab"
                aria-selected={tab === name}
                class={tab === name ? 'admin-tab active' : 'admin-tab'}
                onClick={() => {
                  setSelected(undefined);
                  setTab(name);
                }}
              >
                {{ users: 'Users', usage: 'Usage', audit: 'Audit log', feedback: 'Feedback' }[name]}
              </button>
            ))}
          </div>
          {problem && (
            <p class="form-problem" role="alert">
              {problem}
            </p>
          )}

          {tab === 'users' && !selected && (
            <section aria-label="Users">
              <div class="admin-toolbar">
                <label>
                  Search{' '}
                  <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
                </label>
                <button
                  type="button"
                  class="secondary"
                  onClick={() => void guard(async () => save(await admin.csv('/admin/users'), 'users.csv'))}
                >
                  Export CSV
                </button>
              </div>
              {users === undefined ? (
                <p>Loading…</p>
              ) : (
                <table class="keys-table admin-table">
                  <thead>
                    <tr>
                      {header('id', 'User')}
                      {header('status', 'Status')}
                      {header('last_active', 'Last active')}
                      {header('requests', 'Requests')}
                      {header('tokens', 'Tokens in / out')}
                      {header('cost', 'Cost')}
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((user) => (
                      <tr key={user.id}>
                        <td>
                          <button type="button" class="link-button" onClick={() => void openUser(user.id)}>
                            {user.email ?? user.id}
                          </button>
                        </td>
                        <td>{user.status}</td>
                        <td>{user.last_active ?? '—'}</td>
                        <td>{number(user.usage.requests)}</td>
                        <td>
                          {number(user.usage.tokens_in)} / {number(user.usage.tokens_out)}
                        </td>
                        <td>{money(user.usage.cost)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          )}

          {tab === 'users' && selected && (
            <section aria-labelledby="user-title">
              <button type="button" class="link-button" onClick={() => setSelected(undefined)}>
                ← All users
              </button>
              <h2 id="user-title">{selected.email ?? selected.id}</h2>
              <dl class="admin-facts">
                <dt>Status</dt>
                <dd>{selected.status}</dd>
                <dt>Conversations</dt>
                <dd>{number(selected.conversations)}</dd>
                <dt>Files</dt>
                <dd>{number(selected.files)}</dd>
                <dt>Requests (30 days)</dt>
                <dd>{number(selected.usage.requests)}</dd>
                <dt>Cost (30 days)</dt>
                <dd>{money(selected.usage.cost)}</dd>
              </dl>
              <button
                type="button"
                class={selected.status === 'suspended' ? 'secondary' : 'danger'}
                onClick={() => void toggleSuspension(selected)}
              >
                {selected.status === 'suspended' ? 'Unsuspend' : 'Suspend'}
              </button>
              {userDays && selected.days.length > 0 && (
                <UsageChart
                  label={`Tokens per day of ${selected.id}`}
                  days={userDays.days}
                  series={userDays.series}
                />
              )}
              <UsageTable
                labels={['Day', 'Model']}
                rows={selected.days.map((row) => ({
                  ...row,
                  key: `${row.date}-${row.model}`,
                  cells: [row.date, row.model],
                }))}
              />
            </section>
          )}

          {tab === 'usage' && usage && usageSeries && (
            <section aria-label="Usage">
              <p class="page-intro">
                Since {usage.from}: {number(usage.totals.requests)} requests, {number(usage.totals.tokens_in)}{' '}
                tokens in, {number(usage.totals.tokens_out)} out, cost {money(usage.totals.cost)}.
              </p>
              <UsageChart
                label="Requests and tokens per day"
                days={usageSeries.days}
                series={usageSeries.series}
              />
              <h2>By model</h2>
              <UsageTable
                labels={['Model']}
                rows={usage.by_model.map((row) => ({ ...row, key: row.model, cells: [row.model] }))}
              />
              <button
                type="button"
                class="secondary"
                onClick={() => void guard(async () => save(await admin.csv('/admin/usage'), 'usage.csv'))}
              >
                Export CSV
              </button>
            </section>
          )}

          {tab === 'feedback' && <AdminFeedback admin={admin} guard={guard} />}

          {tab === 'audit' && (
            <section aria-label="Audit log">
              <div class="admin-toolbar">
                <label>
                  Day{' '}
                  <input
                    type="date"
                    value={auditDay}
                    onChange={(e) => setAuditDay(e.currentTarget.value || today())}
                  />
                </label>
              </div>
              {audit && audit.length === 0 && <p>No records that day.</p>}
              {audit && audit.length > 0 && (
                <table class="keys-table admin-table">
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Event</th>
                      <th scope="col">Action</th>
                      <th scope="col">Code</th>
                      <th scope="col">Subject</th>
                    </tr>
                  </thead>
                  <tbody>
                    {audit.map((record) => (
                      <tr key={`${record.occurred_at}-${record.subject}-${record.type}`}>
                        <td>{record.occurred_at.slice(11, 19)}</td>
                        <td>{record.type}</td>
                        <td>{record.action ?? '—'}</td>
                        <td>{record.code ?? '—'}</td>
                        <td title={record.subject}>{record.subject.slice(0, 18)}…</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          )}
        </div>
      </div>
    </main>
  );
}
