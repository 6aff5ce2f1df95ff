import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AdminFeedbackItem, AdminFeedbackQuery, AdminFeedbackReport } from '../contracts/feedback';
import { keys } from '../contracts/keys';
import { TABLE } from '../contracts/table';
import { ValidationError } from '../shared/errors';

/**
 * The admin feedback view: every user's ratings of answers, newest first, from GSI1's one partition per UTC day
 * (`FEEDBACK#<day>`, sorted by the time of the rating), and the up/down counts per day and model over the window.
 * Cost: the counts read every rating of the window once (one query page per 1 MB of ratings per day); a page of
 * the list reads at most `limit` ratings per day it walks, and at most `days` days.
 */
export interface FeedbackReportDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now?: () => Date;
}

const INDEX = TABLE.globalSecondaryIndexes[0].indexName;

/** The window's days, newest first. */
function daysBack(now: Date, count: number): string[] {
  return Array.from({ length: count }, (_, index) =>
    new Date(now.getTime() - index * 86_400_000).toISOString().slice(0, 10),
  );
}

interface Cursor {
  /** Index of the day in the window (0 = today) the next page starts in. */
  readonly day: number;
  readonly key?: Record<string, unknown>;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): Cursor {
  if (cursor === undefined) return { day: 0 };
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if (Number.isInteger(parsed.day) && parsed.day >= 0) return parsed;
  } catch {
    // falls through to the error below
  }
  throw new ValidationError('Expected a cursor returned by a previous page.', 'cursor');
}

function itemOf(item: Record<string, unknown>): AdminFeedbackItem {
  return {
    user_id: String(item.pk).slice(keys.userPartition('').length),
    conversation_id: String(item.conversationId),
    message_id: String(item.messageId),
    rating: item.rating === 'down' ? 'down' : 'up',
    comment: typeof item.comment === 'string' ? item.comment : null,
    model: typeof item.model === 'string' ? item.model : null,
    message: typeof item.answerExcerpt === 'string' ? item.answerExcerpt : '',
    rated_at: String(item.updatedAt),
  };
}

type Counts = { up: number; down: number };
const withRate = ({ up, down }: Counts) => ({ up, down, up_rate: up + down > 0 ? up / (up + down) : null });

async function countsOf(deps: FeedbackReportDeps, days: readonly string[]) {
  const byDay = new Map<string, Counts>();
  const byModel = new Map<string, Counts>();
  for (const day of days) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await deps.db.send(
        new QueryCommand({
          TableName: deps.tableName,
          IndexName: INDEX,
          KeyConditionExpression: 'gsi1pk = :day',
          ExpressionAttributeValues: { ':day': keys.feedbackIndex(day) },
          ProjectionExpression: 'rating, model',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const rating = item.rating === 'down' ? 'down' : 'up';
        const model = typeof item.model === 'string' ? item.model : 'unknown';
        for (const [map, name] of [
          [byDay, day],
          [byModel, model],
        ] as const) {
          const counts = map.get(name) ?? { up: 0, down: 0 };
          counts[rating] += 1;
          map.set(name, counts);
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  const total = [...byDay.values()].reduce(
    (sum, counts) => ({ up: sum.up + counts.up, down: sum.down + counts.down }),
    { up: 0, down: 0 },
  );
  return {
    ...withRate(total),
    days: [...days].reverse().map((date) => ({ date, ...withRate(byDay.get(date) ?? { up: 0, down: 0 }) })),
    models: [...byModel.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([model, counts]) => ({ model, ...withRate(counts) })),
  };
}

async function pageOf(deps: FeedbackReportDeps, days: readonly string[], query: AdminFeedbackQuery) {
  const data: AdminFeedbackItem[] = [];
  let cursor = decodeCursor(query.cursor);
  while (cursor.day < days.length && data.length < query.limit) {
    const page = await deps.db.send(
      new QueryCommand({
        TableName: deps.tableName,
        IndexName: INDEX,
        KeyConditionExpression: 'gsi1pk = :day',
        ExpressionAttributeValues: {
          ':day': keys.feedbackIndex(days[cursor.day] ?? ''),
          ...(query.rating ? { ':rating': query.rating } : {}),
        },
        ...(query.rating ? { FilterExpression: 'rating = :rating' } : {}),
        ScanIndexForward: false,
        Limit: query.limit - data.length,
        ExclusiveStartKey: cursor.key,
      }),
    );
    data.push(...(page.Items ?? []).map(itemOf));
    cursor = page.LastEvaluatedKey
      ? { day: cursor.day, key: page.LastEvaluatedKey }
      : { day: cursor.day + 1 };
  }
  return { data, next: cursor.day < days.length ? encodeCursor(cursor) : null };
}

export async function feedbackReport(
  deps: FeedbackReportDeps,
  query: AdminFeedbackQuery,
): Promise<AdminFeedbackReport> {
  const days = daysBack(deps.now ? deps.now() : new Date(), query.days);
  const [page, rates] = await Promise.all([pageOf(deps, days, query), countsOf(deps, days)]);
  return { object: 'list', data: page.data, has_more: page.next !== null, next_cursor: page.next, rates };
}
