/** The user's files as the Files API describes them, and how the app shows them. */
export type FileStatus = 'uploaded' | 'processed' | 'error';

export interface FileInfo {
  readonly id: string;
  readonly filename: string;
  readonly bytes: number;
  readonly created_at: number;
  readonly status: FileStatus;
  readonly status_details: string | null;
  readonly pages?: number;
  readonly chunks?: number;
  readonly upload?: { url: string; method: 'PUT'; headers: Record<string, string> };
}

/** Files up to this size go inline as multipart; larger ones get a presigned upload (the API's limit). */
export const MAX_INLINE_BYTES = 4 * 1024 * 1024;

/** What the file picker offers: the kinds the server can read. */
export const ACCEPTED_FILES = '.pdf,.docx,.csv,.json,.txt,.md,.markdown';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** One line saying where a file stands. */
export function describeFile(file: FileInfo): string {
  if (file.status === 'uploaded') return 'Processing…';
  if (file.status === 'error') return file.status_details ?? 'Could not be read.';
  const pages = file.pages !== undefined && file.pages > 1 ? `${file.pages} pages · ` : '';
  return `${pages}ready`;
}

/** The files still being processed, which the list keeps polling for. */
export function pendingFiles(files: readonly FileInfo[]): FileInfo[] {
  return files.filter((file) => file.status === 'uploaded');
}
