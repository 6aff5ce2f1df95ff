import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DataExport, ExportStatus } from '../contracts/data-export';
import { keys } from '../contracts/keys';
import { TABLE } from '../contracts/table';
import { USER_DATA_PREFIXES } from '../contracts/user-data';
import { EXPORT_LIMITS, exportObjectKey, type UserDataTask } from '../contracts/user-data-tasks';
import { type ConversationStore, isExpired } from '../conversations/store';
import { erasedAt } from '../shared/erase-marker';
import { NotFoundError } from '../shared/errors';
import { prefixPages } from './prefix-pages';
import { exportedItem } from './views';

/**
 * Exports of a user's data as jobs: `POST /v1/me/export` records the export and queues it; the user-data worker
 * streams every registered prefix of the user's partition, page by page, into one JSON Lines object in the exports
 * bucket (a multipart upload, so memory holds one page and one part whatever the account's size); `GET
 * /v1/me/export/{id}` answers with a short-lived presigned link once it is written. The object expires with the
 * bucket's lifecycle rule and the record with its TTL.
 */
export interface ExportDeps {
  readonly store: ConversationStore;
  readonly s3: S3Client;
  readonly bucket: string;
  /** Queues a task for the user-data worker. */
  readonly enqueue: (task: UserDataTask) => Promise<void>;
  /** A file's download link for the export (files are exported as links). @default no link */
  readonly fileLink?: (item: Record<string, unknown>) => Promise<Record<string, unknown>>;
  readonly now?: () => Date;
}

interface ExportRecord {
  readonly exportId: string;
  readonly status: ExportStatus;
  readonly createdAt: string;
  readonly completedAt?: string;
  readonly objectKey?: string;
  readonly bytes?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

const nowOf = (deps: Pick<ExportDeps, 'now'>) => (deps.now ? deps.now() : new Date());

export function newExportId(): string {
  return `exp_${crypto.randomUUID().replaceAll('-', '')}`;
}

function view(record: ExportRecord, link?: { url: string; expiresAt: number }): DataExport {
  return {
    id: record.exportId,
    object: 'data_export',
    status: record.status,
    created_at: record.createdAt,
    completed_at: record.completedAt ?? null,
    url: link?.url ?? null,
    expires_at: link?.expiresAt ?? null,
    bytes: record.bytes ?? null,
    error: record.error ?? null,
  };
}

/** Records a queued export of `sub`'s data and hands it to the worker. */
export async function requestExport(deps: ExportDeps, sub: string): Promise<DataExport> {
  const now = nowOf(deps);
  const record: ExportRecord = { exportId: newExportId(), status: 'queued', createdAt: now.toISOString() };
  await deps.store.db.send(
    new PutCommand({
      TableName: deps.store.tableName,
      Item: {
        ...keys.dataExport(sub, record.exportId),
        entity: 'export',
        ...record,
        [TABLE.ttlAttribute]: Math.floor(now.getTime() / 1000) + EXPORT_LIMITS.retentionDays * 86_400,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  await deps.enqueue({ kind: 'export', sub, exportId: record.exportId });
  return view(record);
}

async function readRecord(
  deps: ExportDeps,
  sub: string,
  exportId: string,
): Promise<ExportRecord | undefined> {
  const { Item } = await deps.store.db.send(
    new GetCommand({
      TableName: deps.store.tableName,
      Key: keys.dataExport(sub, exportId),
      ConsistentRead: true,
    }),
  );
  if (!Item || isExpired(Item, deps.store)) return undefined;
  return Item as unknown as ExportRecord;
}

/** The caller's export; a finished one with a fresh download link. Someone else's id is a 404, as a missing one. */
export async function exportStatus(deps: ExportDeps, sub: string, exportId: string): Promise<DataExport> {
  const record = await readRecord(deps, sub, exportId);
  if (!record) throw new NotFoundError('Export', 'id');
  if (record.status !== 'completed' || record.objectKey === undefined) return view(record);
  const url = await getSignedUrl(
    deps.s3,
    new GetObjectCommand({
      Bucket: deps.bucket,
      Key: record.objectKey,
      ResponseContentDisposition: 'attachment; filename="chatstack-export.jsonl"',
      ResponseContentType: 'application/x-ndjson',
    }),
    { expiresIn: EXPORT_LIMITS.downloadUrlSeconds },
  );
  return view(record, {
    url,
    expiresAt: Math.floor(nowOf(deps).getTime() / 1000) + EXPORT_LIMITS.downloadUrlSeconds,
  });
}

/** One line per registered item, prefix by prefix, one strongly consistent page at a time. */
async function* exportLines(deps: ExportDeps, sub: string, exportedAt: string): AsyncGenerator<string> {
  yield `${JSON.stringify({ object: 'export', format: 'jsonl', exported_at: exportedAt, user: { sub } })}\n`;
  const counts: Record<string, number> = {};
  for (const { prefix, kind, exported: included } of USER_DATA_PREFIXES) {
    if (included === false) continue;
    for await (const items of prefixPages(deps.store, sub, prefix, { pageSize: EXPORT_LIMITS.pageSize })) {
      let lines = '';
      for (const item of items) {
        if (isExpired(item, deps.store)) continue;
        const exported = exportedItem(kind, item);
        const links =
          deps.fileLink && String(item.sk).startsWith(keys.filePrefix) ? await deps.fileLink(item) : {};
        lines += `${JSON.stringify({ kind, item: { ...(exported as object), ...links } })}\n`;
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
      if (lines !== '') yield lines;
    }
  }
  yield `${JSON.stringify({ object: 'export.end', counts })}\n`;
}

async function settle(
  deps: ExportDeps,
  sub: string,
  exportId: string,
  change: Pick<ExportRecord, 'status' | 'completedAt' | 'objectKey' | 'bytes' | 'error'>,
): Promise<boolean> {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':status': change.status };
  const sets = ['#status = :status'];
  for (const [name, value] of Object.entries(change)) {
    if (name === 'status' || value === undefined) continue;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  try {
    await deps.store.db.send(
      new UpdateCommand({
        TableName: deps.store.tableName,
        Key: keys.dataExport(sub, exportId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        // The record is gone when the user's data was erased meanwhile: nothing may bring it back.
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/**
 * The worker's side: writes the export's object and marks it completed. A retried task writes the object again
 * (same key, same content as of then). An export whose record is gone (erased since) leaves nothing behind.
 */
export async function writeExport(
  deps: ExportDeps,
  sub: string,
  exportId: string,
): Promise<ExportStatus | 'gone'> {
  const record = await readRecord(deps, sub, exportId);
  if (!record) return 'gone';
  if (record.status === 'completed' || record.status === 'failed') return record.status;
  const erased = await erasedAt(deps.store, sub);
  if (erased !== undefined && erased >= Date.parse(record.createdAt)) return 'gone';
  if (!(await settle(deps, sub, exportId, { status: 'running' }))) return 'gone';
  const objectKey = exportObjectKey(sub, exportId);
  let bytes = 0;
  const body = Readable.from(
    (async function* () {
      for await (const lines of exportLines(deps, sub, nowOf(deps).toISOString())) {
        const chunk = Buffer.from(lines, 'utf8');
        bytes += chunk.length;
        yield chunk;
      }
    })(),
  );
  // One part in flight: memory stays at about one 5 MiB part plus one page of items.
  await new Upload({
    client: deps.s3,
    params: { Bucket: deps.bucket, Key: objectKey, Body: body, ContentType: 'application/x-ndjson' },
    queueSize: 1,
  }).done();
  const completed = await settle(deps, sub, exportId, {
    status: 'completed',
    completedAt: nowOf(deps).toISOString(),
    objectKey,
    bytes,
  });
  if (!completed) {
    await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: objectKey }));
    return 'gone';
  }
  return 'completed';
}

/** Marks an export that kept failing (its task reached the dead-letter queue or the worker gave up). */
export async function failExport(
  deps: ExportDeps,
  sub: string,
  exportId: string,
  message: string,
): Promise<void> {
  await settle(deps, sub, exportId, { status: 'failed', error: { code: 'export_failed', message } });
}
