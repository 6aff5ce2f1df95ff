import {
  FILE_ID_PATTERN,
  FILE_LIMITS,
  type FileList,
  type FileObject,
  type FilePurpose,
  type FileUploadRequest,
  fileObjectKey,
} from '../contracts/files';
import { keys } from '../contracts/keys';
import type { VectorStore } from '../retrieval/vector-store';
import { NotFoundError, QuotaExceededError, ValidationError } from '../shared/errors';
import { CONTENT_TYPE_OF, fileKindOf, SUPPORTED_EXTENSIONS } from './kinds';
import type { FileObjects } from './objects';
import type { FileItem, FileStore } from './store';

/**
 * The Files API's domain: upload (inline or presigned), list, read, download links, delete — and the export and
 * erasure the `/v1/me` handler calls. Every operation is scoped to the caller: another user's file id is a 404.
 */
export interface FilesDeps {
  readonly store: FileStore;
  readonly objects: FileObjects;
  readonly vectors: VectorStore;
  readonly maxBytes: number;
  readonly quotaBytesPerUser: number;
  readonly now?: () => Date;
}

export interface InlineUpload {
  readonly filename: string;
  readonly contentType: string | undefined;
  readonly purpose: FilePurpose;
  readonly body: Uint8Array;
}

const newFileId = () => `file-${crypto.randomUUID().replaceAll('-', '')}`;

export function toFileObject(item: FileItem): FileObject {
  return {
    id: item.fileId,
    object: 'file',
    bytes: item.bytes,
    created_at: item.createdAt,
    filename: item.filename,
    purpose: item.purpose,
    status: item.status,
    status_details: item.status === 'error' ? (item.errorReason ?? 'The file could not be processed.') : null,
    ...(item.chunks === undefined ? {} : { chunks: item.chunks }),
    ...(item.pages === undefined ? {} : { pages: item.pages }),
  };
}

function kindOrRefuse(filename: string, contentType: string | undefined, param: string) {
  const kind = fileKindOf(filename, contentType);
  if (kind === undefined) {
    throw new ValidationError(
      `Files of this type cannot be read. Supported: ${SUPPORTED_EXTENSIONS.join(', ')}.`,
      param,
      'unsupported_file',
    );
  }
  return kind;
}

/** Writes the record after reserving the caller's storage; over the quota is a 429 naming the limit. */
async function createRecord(
  deps: FilesDeps,
  sub: string,
  fields: Pick<FileItem, 'filename' | 'purpose' | 'kind' | 'contentType' | 'bytes' | 'presigned'>,
): Promise<FileItem> {
  const fileId = newFileId();
  if (!(await deps.store.reserveStorage(sub, fields.bytes, deps.quotaBytesPerUser))) {
    const used = await deps.store.storedBytes(sub);
    throw new QuotaExceededError(
      `Storing this file (${fields.bytes} bytes) would exceed your file storage quota of ` +
        `${deps.quotaBytesPerUser} bytes (${used} bytes in use). Delete files to make room.`,
      3600,
    );
  }
  const item: FileItem = {
    ...keys.file(sub, fileId),
    entity: 'file',
    fileId,
    sub,
    ...fields,
    objectKey: fileObjectKey(sub, fileId),
    status: 'uploaded',
    createdAt: Math.floor((deps.now ?? (() => new Date()))().getTime() / 1000),
  };
  try {
    await deps.store.createFile(item);
  } catch (error) {
    // The reservation must not outlive a record that was never written.
    await deps.store.releaseStorage(sub, fields.bytes);
    throw error;
  }
  return item;
}

/** `POST /v1/files` as multipart: the bytes come with the request and are stored at once. */
export async function uploadInline(deps: FilesDeps, sub: string, upload: InlineUpload): Promise<FileObject> {
  const size = upload.body.byteLength;
  if (size === 0) throw new ValidationError('The uploaded file is empty.', 'file', 'empty_file');
  if (size > FILE_LIMITS.maxInlineBytes) {
    throw new ValidationError(
      `The file is ${size} bytes; a multipart upload takes at most ${FILE_LIMITS.maxInlineBytes} bytes. ` +
        'For larger files send JSON {filename, bytes, content_type} to get an upload URL.',
      'file',
      'file_too_large',
    );
  }
  const kind = kindOrRefuse(upload.filename, upload.contentType, 'file');
  const item = await createRecord(deps, sub, {
    filename: upload.filename,
    purpose: upload.purpose,
    kind,
    contentType: CONTENT_TYPE_OF[kind],
    bytes: size,
  });
  try {
    await deps.objects.put(item.objectKey, upload.body, item.contentType);
  } catch (error) {
    // Never keep a record (and its reserved bytes) for bytes that were not stored.
    await removeFile(deps, sub, item.fileId);
    throw error;
  }
  return toFileObject(item);
}

/** `POST /v1/files` as JSON: the record now, a presigned PUT for the bytes; the upload's S3 event starts ingest. */
export async function announceUpload(
  deps: FilesDeps,
  sub: string,
  request: FileUploadRequest,
): Promise<FileObject> {
  if (request.bytes > deps.maxBytes) {
    throw new ValidationError(
      `The file is ${request.bytes} bytes; the largest file accepted is ${deps.maxBytes} bytes.`,
      'bytes',
      'file_too_large',
    );
  }
  const kind = kindOrRefuse(request.filename, request.content_type, 'filename');
  const item = await createRecord(deps, sub, {
    filename: request.filename,
    purpose: request.purpose,
    kind,
    contentType: CONTENT_TYPE_OF[kind],
    bytes: request.bytes,
    presigned: true,
  });
  const url = await deps.objects.presignPut(
    item.objectKey,
    item.contentType,
    item.bytes,
    FILE_LIMITS.presignedUrlSeconds,
  );
  return {
    ...toFileObject(item),
    upload: {
      url,
      method: 'PUT',
      headers: { 'content-type': item.contentType },
      expires_at: item.createdAt + FILE_LIMITS.presignedUrlSeconds,
    },
  };
}

/** After its upload URL expired (and a grace period for an upload in flight), a file whose bytes never came. */
const UPLOAD_GRACE_SECONDS = 300;

/**
 * Settles an announced file whose bytes never arrived as `error`, so it does not wait (and hold its quota
 * reservation, until deleted) as `uploaded` forever. Only such files cost a look at the bucket.
 */
async function settleAbandonedUpload(deps: Pick<FilesDeps, 'store' | 'objects' | 'now'>, item: FileItem) {
  const nowSeconds = Math.floor((deps.now ?? (() => new Date()))().getTime() / 1000);
  const expired = item.createdAt + FILE_LIMITS.presignedUrlSeconds + UPLOAD_GRACE_SECONDS < nowSeconds;
  if (item.status !== 'uploaded' || item.presigned !== true || !expired) return item;
  if ((await deps.objects.size(item.objectKey)) !== undefined) return item;
  const reason = 'The upload URL expired before the file arrived. Delete this file and upload it again.';
  await deps.store.markError(item.sub, item.fileId, 'upload_expired', reason);
  return (await deps.store.getFile(item.sub, item.fileId)) ?? item;
}

/** The caller's file, or a 404 for a missing id, a malformed id and another user's id alike. */
export async function findFile(
  store: FileStore,
  sub: string,
  fileId: string,
  param = 'id',
): Promise<FileItem> {
  const item = FILE_ID_PATTERN.test(fileId) ? await store.getFile(sub, fileId) : undefined;
  if (item === undefined) throw new NotFoundError(`File ${fileId}`, param);
  return item;
}

export async function readFile(
  deps: Pick<FilesDeps, 'store' | 'objects' | 'now'>,
  sub: string,
  fileId: string,
) {
  return toFileObject(await settleAbandonedUpload(deps, await findFile(deps.store, sub, fileId)));
}

export async function listFiles(
  deps: Pick<FilesDeps, 'store' | 'objects' | 'now'>,
  sub: string,
  query: {
    purpose?: FilePurpose | undefined;
    limit: number;
    order: 'asc' | 'desc';
    after?: string | undefined;
  },
): Promise<FileList> {
  const stored = await deps.store.listFiles(sub);
  const items = (await Promise.all(stored.map((item) => settleAbandonedUpload(deps, item))))
    .filter((item) => query.purpose === undefined || item.purpose === query.purpose)
    .sort((a, b) => a.createdAt - b.createdAt || a.fileId.localeCompare(b.fileId));
  if (query.order === 'desc') items.reverse();
  const start = query.after === undefined ? 0 : items.findIndex((item) => item.fileId === query.after) + 1;
  const page = items.slice(start, start + query.limit).map(toFileObject);
  return {
    object: 'list',
    data: page,
    has_more: start + page.length < items.length,
    first_id: page[0]?.id ?? null,
    last_id: page[page.length - 1]?.id ?? null,
  };
}

/** A short-lived download link for the file's bytes (`GET /v1/files/{id}/content` redirects to it). */
export async function contentUrl(deps: Pick<FilesDeps, 'store' | 'objects'>, sub: string, fileId: string) {
  const item = await findFile(deps.store, sub, fileId);
  // Bytes refused at ingestion (larger than announced), or an announced upload that never came.
  if ((await deps.objects.size(item.objectKey)) === undefined) {
    throw new NotFoundError(`Content of file ${fileId}`, 'id');
  }
  return deps.objects.presignGet(item.objectKey, item.filename, FILE_LIMITS.presignedUrlSeconds);
}

/**
 * Removes a file: the record first (from then on retrieval refuses the id), then its chunks, vectors and bytes,
 * and releases its storage. Safe to repeat; an ingest finishing afterwards finds no record and cleans up.
 */
export async function removeFile(deps: FilesDeps, sub: string, fileId: string): Promise<boolean> {
  const item = await deps.store.deleteFile(sub, fileId);
  await deps.store.deleteChunks(sub, fileId);
  await deps.vectors.deleteFile(sub, fileId, item?.chunks ?? FILE_LIMITS.maxChunksPerFile);
  await deps.objects.remove(fileObjectKey(sub, fileId));
  if (item !== undefined) await deps.store.releaseStorage(sub, item.bytes);
  return item !== undefined;
}

export async function deleteFile(deps: FilesDeps, sub: string, fileId: string) {
  await findFile(deps.store, sub, fileId);
  await removeFile(deps, sub, fileId);
  return { id: fileId, object: 'file' as const, deleted: true as const };
}

/** A file's short-lived download link, as exports list it. */
export async function exportFileLink(deps: Pick<FilesDeps, 'objects'>, item: Record<string, unknown>) {
  const file = item as unknown as FileItem;
  return {
    download_url: await deps.objects.presignGet(
      file.objectKey,
      file.filename,
      FILE_LIMITS.presignedUrlSeconds,
    ),
    download_expires_at: Math.floor(Date.now() / 1000) + FILE_LIMITS.presignedUrlSeconds,
  };
}

/** For `GET /v1/me/export`: every file of the user with a short-lived download link. */
export async function exportFiles(deps: Pick<FilesDeps, 'store' | 'objects'>, sub: string) {
  const items = await deps.store.listFiles(sub);
  return Promise.all(
    items.map(async (item) => ({
      ...toFileObject(item),
      ...(await exportFileLink(deps, item as unknown as Record<string, unknown>)),
    })),
  );
}

/** For `DELETE /v1/me`: every file of the user — records, chunks, vectors, objects and the storage counter. */
export async function eraseFiles(deps: FilesDeps, sub: string): Promise<{ files: number }> {
  const items = await deps.store.listFiles(sub);
  for (const item of items) await removeFile(deps, sub, item.fileId);
  return { files: items.length };
}
