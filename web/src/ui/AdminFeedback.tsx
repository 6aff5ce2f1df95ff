import { useEffect, useState } from 'preact/hooks';
import type { AdminApi, FeedbackCounts, FeedbackItem, FeedbackReport } from '../admin-api';
import { UsageChart } from './UsageChart';

const percent = (rate: number | null) => (rate === null ? '—' : `${Math.round(rate * 100)} %`);

function HeaderRow(props: { readonly labels: readonly string[] }) {
  return (
    <thead>
      <tr>
        {props.labels.map((label) => (
          <th key={label} scope="col">
            {label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

function RatesTable(props: {
  readonly label: string;
  readonly rows: readonly (FeedbackCounts & { readonly name: string })[];
}) {
  return (
    <table class="keys-table admin-table">
      <HeaderRow labels={[props.label, 'Thumbs up', 'Thumbs down', 'Up rate']} />
      <tbody>
        {props.rows.map((row) => (
          <tr key={row.name}>
            <td>{row.name}</td>
            <td>{row.up}</td>
            <td>{row.down}</td>
            <td>{percent(row.up_rate)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The console's feedback view: up/down rates per day (chart) and per model over the last 30 days, and every
 * rating newest first with the rated answer and the comment, a page at a time.
 */
export function AdminFeedback(props: {
  readonly admin: AdminApi;
  readonly guard: (work: () => Promise<void>) => Promise<void>;
}) {
  const { admin, guard } = props;
  const [rating, setRating] = useState<'up' | 'down' | ''>('');
  const [report, setReport] = useState<FeedbackReport | undefined>(undefined);
  const [items, setItems] = useState<readonly FeedbackItem[]>([]);

  useEffect(() => {
    void guard(async () => {
      const first = await admin.feedback(rating ? { rating } : {});
      setReport(first);
      setItems(first.data);
    });
  }, [admin, guard, rating]);

  if (!report) return null;
  const { rates } = report;
  const more = report.next_cursor;
  return (
    <section aria-label="Feedback">
      <p class="page-intro">
        Last 30 days: {rates.up} thumbs up, {rates.down} thumbs down ({percent(rates.up_rate)} up).
      </p>
      <UsageChart
        label="Ratings per day"
        days={rates.days.map((day) => day.date)}
        series={[
          { label: 'Thumbs up', values: rates.days.map((day) => day.up), color: '#16a34a' },
          { label: 'Thumbs down', values: rates.days.map((day) => day.down), color: '#dc2626' },
        ]}
      />
      <h2>By model</h2>
      <RatesTable label="Model" rows={rates.models.map((row) => ({ ...row, name: row.model }))} />
      <h2>By day</h2>
      <RatesTable
        label="Day"
        rows={rates.days
          .filter((day) => day.up + day.down > 0)
          .reverse()
          .map((row) => ({ ...row, name: row.date }))}
      />
      <h2>Ratings</h2>
      <div class="admin-toolbar">
        <label>
          Show{' '}
          <select
            value={rating}
            onChange={(event) => setRating(event.currentTarget.value as 'up' | 'down' | '')}
          >
            <option value="">all</option>
            <option value="up">thumbs up</option>
            <option value="down">thumbs down</option>
          </select>
        </label>
      </div>
      {items.length === 0 && <p>No ratings in the last 30 days.</p>}
      {items.length > 0 && (
        <table class="keys-table admin-table feedback-table">
          <HeaderRow labels={['Time', 'Rating', 'Model', 'Comment', 'Answer', 'User']} />
          <tbody>
            {items.map((item) => (
              <tr key={`${item.user_id}-${item.message_id}`}>
                <td>{item.rated_at.slice(0, 16).replace('T', ' ')}</td>
                <td>{item.rating === 'up' ? 'Up' : 'Down'}</td>
                <td>{item.model ?? '—'}</td>
                <td>{item.comment ?? '—'}</td>
                <td class="feedback-answer" title={item.message}>
                  {item.message.length > 160 ? `${item.message.slice(0, 160)}…` : item.message}
                </td>
                <td title={item.user_id}>
                  {item.user_id.length > 18 ? `${item.user_id.slice(0, 18)}…` : item.user_id}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && (
        <button
          type="button"
          class="secondary"
          onClick={() =>
            void guard(async () => {
              const next = await admin.feedback({ ...(rating ? { rating } : {}), cursor: more });
              setReport({ ...report, next_cursor: next.next_cursor });
              setItems((current) => [...current, ...next.data]);
            })
          }
        >
          Load more
        </button>
      )}
    </section>
  );
}
