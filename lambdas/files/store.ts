import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { FileKind, FilePurpose, FileStatus } from '../contracts/files';
import { keys } from '../contracts/keys';
import { conditionally } from '../shared/conditional-write';

/**
 * File records (`keys.file`), their text chunks (`keys.fileChunk`) and the per-user storage counter
 * (`keys.fileStorage`), all in the owner's partition: a read that names another user's file finds nothing.
 * A file moves `uploaded → processed | error` once; each transition is conditional on `uploaded`, so a
 * redelivered event never overwrites a settled file.
 */
export interface FileItem {
  readonly pk: string;
  readonly sk: string;
  readonly entity: 'file';
  readonly fileId: string;
  readonly sub: string;
  readonly filename: string;
  readonly purpose: FilePurpose;
  readonly kind: FileKind;
  readonly contentType: string;
  /** Declared (JSON upload) or actual (multipart) size; the storage quota counts it. */
  readonly bytes: number;
  readonly objectKey: string;
  /** Announced as JSON: its bytes come later through a presigned PUT. */
  readonly presigned?: boolean;
  readonly status: FileStatus;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly processedAt?: string;
  readonly errorCode?: string;
  readonly errorReason?: string;
  readonly chunks?: number;
  readonly pages?: number;
  /** The embedding model of the file's vectors; absent when the file was indexed for BM25 only. */
  readonly embeddingModel?: string;
}

export interface ChunkItem {
  readonly pk: string;
  readonly sk: string;
  readonly entity: 'chunk';
  readonly fileId: string;
  readonly index: number;
  readonly text: string;
  readonly tokens: number;
  /** First page the chunk comes from (PDF). */
  readonly page?: number;
  /** Embedding (float32 little-endian) when vectors are kept in the table. */
  readonly vector?: Uint8Array;
}

export interface FileStoreDeps {
  readonly dynamo: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** BatchWrite allows 25 requests per call; unprocessed ones are retried a bounded number of times. */
const BATCH = 25;
const MAX_BATCH_RETRIES = 8;

/** Every item of the user's partition whose sort key starts with `prefix`, all pages. */
export async function queryByPrefix<T>(
  deps: FileStoreDeps,
  sub: string,
  prefix: string,
  options: { projection?: string; names?: Record<string, string> } = {},
): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.dynamo.send(
      new QueryCommand({
        TableName: deps.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.userPartition(sub), ':prefix': prefix },
        ProjectionExpression: options.projection,
        ExpressionAttributeNames: options.names,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

export function createFileStore(deps: FileStoreDeps) {
  const { dynamo, tableName } = deps;

  async function getFile(sub: string, fileId: string): Promise<FileItem | undefined> {
    const output = await dynamo.send(
      new GetCommand({ TableName: tableName, Key: keys.file(sub, fileId), ConsistentRead: true }),
    );
    return output.Item as FileItem | undefined;
  }

  async function createFile(item: FileItem): Promise<boolean> {
    return conditionally(() =>
      dynamo.send(
        new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
  }

  /** Every file of the user, oldest first (the partition holds a bounded number: the storage quota). */
  async function listFiles(sub: string): Promise<FileItem[]> {
    return queryByPrefix<FileItem>(deps, sub, keys.filePrefix);
  }

  async function settle(
    sub: string,
    fileId: string,
    update: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    return conditionally(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.file(sub, fileId),
          ConditionExpression: '#status = :uploaded',
          UpdateExpression: update,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':uploaded': 'uploaded', ...values },
        }),
      ),
    );
  }

  /** `uploaded → processed`; `false` when the file was deleted or settled meanwhile. */
  function markProcessed(
    sub: string,
    fileId: string,
    outcome: { chunks: number; pages: number; embeddingModel: string | undefined },
  ) {
    return settle(
      sub,
      fileId,
      `SET #status = :processed, chunks = :chunks, pages = :pages, processedAt = :at${
        outcome.embeddingModel === undefined ? '' : ', embeddingModel = :model'
      }`,
      {
        ':processed': 'processed',
        ':chunks': outcome.chunks,
        ':pages': outcome.pages,
        ':at': new Date().toISOString(),
        ...(outcome.embeddingModel === undefined ? {} : { ':model': outcome.embeddingModel }),
      },
    );
  }

  /** `uploaded → error` with a reason the user can read. */
  function markError(sub: string, fileId: string, code: string, reason: string) {
    return settle(
      sub,
      fileId,
      'SET #status = :error, errorCode = :code, errorReason = :reason, processedAt = :at',
      { ':error': 'error', ':code': code, ':reason': reason, ':at': new Date().toISOString() },
    );
  }

  /** Deletes the record; returns it when this call deleted it (so its bytes are released exactly once). */
  async function deleteFile(sub: string, fileId: string): Promise<FileItem | undefined> {
    const output = await dynamo.send(
      new DeleteCommand({ TableName: tableName, Key: keys.file(sub, fileId), ReturnValues: 'ALL_OLD' }),
    );
    return output.Attributes as FileItem | undefined;
  }

  /** Adds `bytes` to the user's stored total unless that passes `limit`. */
  async function reserveStorage(sub: string, bytes: number, limit: number): Promise<boolean> {
    if (bytes > limit) return false;
    return conditionally(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.fileStorage(sub),
          ConditionExpression: 'attribute_not_exists(#bytes) OR #bytes <= :room',
          UpdateExpression: 'ADD #bytes :bytes',
          ExpressionAttributeNames: { '#bytes': 'bytes' },
          ExpressionAttributeValues: { ':room': limit - bytes, ':bytes': bytes },
        }),
      ),
    );
  }

  async function releaseStorage(sub: string, bytes: number): Promise<void> {
    await dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.fileStorage(sub),
        UpdateExpression: 'ADD #bytes :bytes',
        ExpressionAttributeNames: { '#bytes': 'bytes' },
        ExpressionAttributeValues: { ':bytes': -bytes },
      }),
    );
  }

  async function storedBytes(sub: string): Promise<number> {
    const output = await dynamo.send(
      new GetCommand({ TableName: tableName, Key: keys.fileStorage(sub), ConsistentRead: true }),
    );
    const bytes = output.Item?.bytes;
    return typeof bytes === 'number' ? bytes : 0;
  }

  async function putChunks(chunks: readonly ChunkItem[]): Promise<void> {
    await batchWrite(chunks.map((chunk) => ({ PutRequest: { Item: chunk } })));
  }

  function listChunks(sub: string, fileId: string): Promise<ChunkItem[]> {
    return queryByPrefix<ChunkItem>(deps, sub, keys.fileChunkPrefix(fileId));
  }

  async function deleteChunks(sub: string, fileId: string): Promise<number> {
    const chunks = await queryByPrefix<Pick<ChunkItem, 'pk' | 'sk'>>(
      deps,
      sub,
      keys.fileChunkPrefix(fileId),
      {
        projection: 'pk, sk',
      },
    );
    await batchWrite(chunks.map((chunk) => ({ DeleteRequest: { Key: { pk: chunk.pk, sk: chunk.sk } } })));
    return chunks.length;
  }

  type WriteRequest = NonNullable<
    ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']
  >[string][number];

  async function batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    for (let start = 0; start < requests.length; start += BATCH) {
      let pending: WriteRequest[] = requests.slice(start, start + BATCH);
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > MAX_BATCH_RETRIES) throw new Error('DynamoDB kept items unprocessed; giving up');
        if (attempt > 0) await new Promise((done) => setTimeout(done, 50 * 2 ** attempt));
        const output = await dynamo.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        pending = output.UnprocessedItems?.[tableName] ?? [];
      }
    }
  }

  return {
    getFile,
    createFile,
    listFiles,
    markProcessed,
    markError,
    deleteFile,
    reserveStorage,
    releaseStorage,
    storedBytes,
    putChunks,
    listChunks,
    deleteChunks,
  };
}

export type FileStore = ReturnType<typeof createFileStore>;
