/**
 * "Export my data": the export runs as a job on the server (`POST /v1/me/export`); the app polls its status and,
 * once it is written, downloads the file through the short-lived link it is given.
 */
export interface DataExportStatus {
  readonly id: string;
  readonly status: 'queued' | 'running' | 'completed' | 'failed';
  readonly url: string | null;
  readonly error: { readonly message: string } | null;
}

export interface DataExportClient {
  startExport(): Promise<DataExportStatus>;
  exportStatus(id: string): Promise<DataExportStatus>;
}

/** How long the app waits for an export before it gives up (the server keeps going; a new request starts over). */
export const EXPORT_WAIT_MS = 15 * 60_000;

export class ExportFailedError extends Error {}

/** Starts an export and resolves with its download link; polls every 1 s, then less often, up to EXPORT_WAIT_MS. */
export async function waitForExport(
  client: DataExportClient,
  options: { readonly sleep?: (ms: number) => Promise<void>; readonly now?: () => number } = {},
): Promise<string> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const giveUpAt = now() + EXPORT_WAIT_MS;
  let current = await client.startExport();
  for (let attempt = 0; ; attempt++) {
    if (current.status === 'completed' && current.url) return current.url;
    if (current.status === 'failed') {
      throw new ExportFailedError(current.error?.message ?? 'The export could not be written.');
    }
    if (now() >= giveUpAt)
      throw new ExportFailedError('The export is taking too long; please try again later.');
    await sleep(Math.min(5_000, 1_000 * 1.5 ** attempt));
    current = await client.exportStatus(current.id);
  }
}

/** Downloads `url` (a presigned link that names the file itself) without leaving the app. */
export function download(url: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}
