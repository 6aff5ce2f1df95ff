import * as z from 'zod';

/**
 * The Files API (OpenAI's `/v1/files`), described once: the file object, the JSON upload request that answers with
 * a presigned upload, the limits, the id format and where a file's bytes live in the bucket.
 */
export const FILE_LIMITS = {
  /** Largest file sent inline as multipart: a Lambda payload is at most 6 MB, base64 makes 4 MB of it 5.3 MB. */
  maxInlineBytes: 4 * 1024 * 1024,
  /** Default of FILES_MAX_BYTES: the largest file accepted through a presigned upload. */
  defaultMaxBytes: 50 * 1024 * 1024,
  /** Default of FILES_QUOTA_BYTES_PER_USER. */
  defaultQuotaBytesPerUser: 500 * 1024 * 1024,
  maxFilenameChars: 255,
  /** Lifetime of a presigned upload or download URL. */
  presignedUrlSeconds: 900,
  /** Bounds of ingestion: past these a file ends as `error` instead of holding a worker. */
  maxPages: 2_000,
  maxExtractedChars: 5_000_000,
  maxChunksPerFile: 5_000,
  /** Files one retrieval may search. */
  maxFilesPerQuery: 20,
} as const;

/** File ids: `file-` + 32 lowercase hex digits (OpenAI's ids start with `file-` too). */
export const FILE_ID_PATTERN = /^file-[0-9a-f]{32}$/;
export const FileId = z
  .string()
  .regex(FILE_ID_PATTERN, 'Expected a file id such as file-0123456789abcdef0123456789abcdef.')
  .meta({ id: 'FileId', example: 'file-0123456789abcdef0123456789abcdef' });

/** Purposes OpenAI's SDK sends; all are stored and indexed the same way here. */
export const FilePurpose = z.enum(['assistants', 'user_data', 'batch', 'fine-tune', 'vision', 'evals']);
export type FilePurpose = z.infer<typeof FilePurpose>;

export const FileStatus = z.enum(['uploaded', 'processed', 'error']);
export type FileStatus = z.infer<typeof FileStatus>;

/** Kinds of content the ingest function extracts text from. */
export const FileKind = z.enum(['pdf', 'docx', 'csv', 'json', 'text', 'markdown']);
export type FileKind = z.infer<typeof FileKind>;

/** A filename without path separators or control characters (it is shown, stored and sent as a download name). */
export function isSafeFilename(name: string): boolean {
  if (name.trim() === '' || name.length > FILE_LIMITS.maxFilenameChars) return false;
  for (const char of name) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || char === '/' || char === '\\') return false;
  }
  return true;
}

const Filename = z
  .string()
  .refine(isSafeFilename, 'A filename needs 1–255 characters without slashes or control characters.');

/** `POST /v1/files` with a JSON body: announce a large file, get a presigned PUT for its bytes. */
export const FileUploadRequest = z
  .object({
    filename: Filename,
    bytes: z.number().int().min(1),
    content_type: z.string().min(1).max(255).optional(),
    purpose: FilePurpose.default('user_data'),
  })
  .strict()
  .meta({ id: 'FileUploadRequest' });
export type FileUploadRequest = z.infer<typeof FileUploadRequest>;

export const FileObject = z
  .object({
    id: FileId,
    object: z.literal('file'),
    bytes: z.number().int(),
    created_at: z.number().int().meta({ description: 'Unix seconds' }),
    filename: z.string(),
    purpose: FilePurpose,
    status: FileStatus,
    /** Why processing failed (status `error`), as OpenAI's deprecated field carries it. */
    status_details: z.string().nullable(),
    /** Extension: what retrieval knows of the file once processed. */
    chunks: z.number().int().optional(),
    pages: z.number().int().optional(),
    /** Extension, on the JSON upload only: where to PUT the bytes, until `expires_at`. */
    upload: z
      .object({
        url: z.string(),
        method: z.literal('PUT'),
        headers: z.record(z.string(), z.string()),
        expires_at: z.number().int(),
      })
      .optional(),
  })
  .meta({ id: 'FileObject' });
export type FileObject = z.infer<typeof FileObject>;

export const FileList = z
  .object({
    object: z.literal('list'),
    data: z.array(FileObject),
    has_more: z.boolean(),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
  })
  .meta({ id: 'FileList' });
export type FileList = z.infer<typeof FileList>;

export const FileListQuery = z
  .object({
    purpose: FilePurpose.optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
    order: z.enum(['asc', 'desc']).default('desc'),
    after: FileId.optional(),
  })
  .strict();

export const FileDeleted = z
  .object({ id: FileId, object: z.literal('file'), deleted: z.literal(true) })
  .meta({ id: 'FileDeleted' });

/** A retrieved passage as a chat answer cites it. */
export const Citation = z
  .object({ file_id: FileId, filename: z.string(), chunk_id: z.string(), text: z.string() })
  .meta({ id: 'Citation' });
export type Citation = z.infer<typeof Citation>;

/**
 * Object keys: `files/<owner>/<file id>`, the owner base64url-encoded so every key is URL-safe (S3 events carry
 * keys URL-encoded) and the ingest function learns the owner from the key alone.
 */
export const FILES_KEY_PREFIX = 'files/';

export function fileObjectKey(sub: string, fileId: string): string {
  return `${FILES_KEY_PREFIX}${Buffer.from(sub, 'utf8').toString('base64url')}/${fileId}`;
}

export function parseFileObjectKey(key: string): { sub: string; fileId: string } | undefined {
  const match = /^files\/([A-Za-z0-9_-]+)\/(file-[0-9a-f]{32})$/.exec(key);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const sub = Buffer.from(match[1], 'base64url').toString('utf8');
  return sub === '' ? undefined : { sub, fileId: match[2] };
}

/** The ingest function's queue (S3 events → SQS → ingest), read by the CDK construct and the local poller alike. */
export const FILES_INGEST_SOURCE = {
  /** Files ingested per invocation: small, since one large PDF can take most of the timeout. */
  batchSize: 1,
  workerTimeoutSeconds: 300,
  /** 6× the worker timeout (AWS's guidance for Lambda consumers of SQS). */
  visibilityTimeoutSeconds: 6 * 300,
  /** Receives before an event moves to the dead-letter queue, whose consumer marks the file `error`. */
  maxReceiveCount: 3,
  deadLetterRetentionDays: 14,
} as const;
