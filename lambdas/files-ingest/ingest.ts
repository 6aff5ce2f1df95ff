import { FILE_LIMITS, parseFileObjectKey } from '../contracts/files';
import { keys } from '../contracts/keys';
import type { FileObjects } from '../files/objects';
import type { ChunkItem, FileStore } from '../files/store';
import type { Embedder } from '../retrieval/embeddings';
import type { VectorStore } from '../retrieval/vector-store';
import { type ChunkOptions, chunkSegments, DEFAULT_CHUNKING } from './chunk';
import { extract, UnreadableFileError } from './extract';

/**
 * One uploaded object → text → chunks (→ vectors) → `processed`, or `error` with a reason. Idempotent: a
 * redelivered event finds the file settled and does nothing. A file that cannot be read settles as `error` at
 * once (never retried); only infrastructure failures throw, so the queue retries them and, after its last
 * receive, the dead-letter consumer settles the file as `error` — no file stays `uploaded` forever.
 */
export interface IngestDeps {
  readonly store: FileStore;
  readonly objects: FileObjects;
  readonly vectors: VectorStore;
  readonly embedder?: Embedder | undefined;
  readonly maxBytes: number;
  readonly chunking?: ChunkOptions;
}

export type IngestOutcome =
  | { readonly status: 'processed'; readonly chunks: number; readonly pages: number }
  | { readonly status: 'error'; readonly code: string; readonly reason: string }
  | { readonly status: 'skipped'; readonly why: string };

export async function ingestObject(deps: IngestDeps, objectKey: string): Promise<IngestOutcome> {
  const address = parseFileObjectKey(objectKey);
  if (address === undefined) return { status: 'skipped', why: 'not a file object key' };
  const { sub, fileId } = address;
  const file = await deps.store.getFile(sub, fileId);
  if (file === undefined) {
    // Bytes nobody announced, or a file deleted before its bytes arrived: they must not linger.
    await deps.objects.remove(objectKey);
    return { status: 'skipped', why: 'no file record' };
  }
  if (file.status !== 'uploaded') return { status: 'skipped', why: `already ${file.status}` };

  const fail = async (code: string, reason: string): Promise<IngestOutcome> => {
    await deps.store.markError(sub, fileId, code, reason);
    return { status: 'error', code, reason };
  };

  const size = await deps.objects.size(objectKey);
  if (size === undefined) return { status: 'skipped', why: 'object is gone' };
  if (size > file.bytes || size > deps.maxBytes) {
    // A presigned upload larger than announced: refuse it and free the space it takes.
    await deps.objects.remove(objectKey);
    return fail(
      'too_large',
      `The uploaded file is ${size} bytes, more than the ${file.bytes} bytes announced.`,
    );
  }
  const bytes = await deps.objects.read(objectKey);
  if (bytes === undefined) return { status: 'skipped', why: 'object is gone' };

  let extracted: Awaited<ReturnType<typeof extract>>;
  try {
    extracted = await extract(file.kind, bytes);
  } catch (error) {
    if (error instanceof UnreadableFileError) return fail(error.code, error.message);
    throw error;
  }
  const chunks = chunkSegments(extracted.segments, deps.chunking ?? DEFAULT_CHUNKING);
  if (chunks.length > FILE_LIMITS.maxChunksPerFile) {
    return fail(
      'too_large',
      `The file's text makes ${chunks.length} passages; at most ${FILE_LIMITS.maxChunksPerFile} are indexed.`,
    );
  }

  const items: ChunkItem[] = chunks.map((chunk, index) => ({
    ...keys.fileChunk(sub, fileId, index),
    entity: 'chunk',
    fileId,
    index,
    text: chunk.text,
    tokens: chunk.tokens,
    ...(chunk.page === undefined ? {} : { page: chunk.page }),
  }));
  await deps.store.putChunks(items);
  const embedder = deps.embedder;
  if (embedder !== undefined) {
    const vectors = await embedder.embed(chunks.map((chunk) => chunk.text));
    await deps.vectors.upsert(
      sub,
      fileId,
      vectors.map((vector, chunkIndex) => ({ chunkIndex, vector })),
    );
  }
  const settled = await deps.store.markProcessed(sub, fileId, {
    chunks: chunks.length,
    pages: extracted.pages,
    embeddingModel: embedder?.model,
  });
  if (!settled) {
    // Deleted (or settled by a concurrent delivery) while we worked: leave nothing behind for a deleted file.
    if ((await deps.store.getFile(sub, fileId)) === undefined) {
      await deps.store.deleteChunks(sub, fileId);
      await deps.vectors.deleteFile(sub, fileId, chunks.length);
    }
    return { status: 'skipped', why: 'file changed during ingestion' };
  }
  return { status: 'processed', chunks: chunks.length, pages: extracted.pages };
}

/** For the dead-letter consumer: a file whose ingestion kept failing ends as `error`. */
export async function failIngestion(store: FileStore, objectKey: string): Promise<boolean> {
  const address = parseFileObjectKey(objectKey);
  if (address === undefined) return false;
  return store.markError(
    address.sub,
    address.fileId,
    'processing_failed',
    'The file could not be processed after repeated attempts. Delete it and upload it again.',
  );
}
