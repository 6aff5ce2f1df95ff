import * as z from 'zod';

/** An export of the caller's data (`POST /v1/me/export`), written to S3 by the user-data worker. */
export const ExportId = z
  .string()
  .regex(/^exp_[0-9a-f]{32}$/, 'Expected an export id such as exp_0123…')
  .meta({ id: 'ExportId' });

export const ExportStatus = z.enum(['queued', 'running', 'completed', 'failed']);
export type ExportStatus = z.infer<typeof ExportStatus>;

/** `POST /v1/me/export` takes no options: the body is empty or `{}`. */
export const DataExportRequest = z.object({}).strict().meta({ id: 'DataExportRequest' });

export const DataExport = z
  .object({
    id: ExportId,
    object: z.literal('data_export'),
    status: ExportStatus,
    created_at: z.string(),
    completed_at: z.string().nullable(),
    /** A presigned GET of the JSON Lines file while `status` is `completed`; `null` otherwise. */
    url: z.string().nullable(),
    /** When `url` stops working (epoch seconds); ask again for a fresh link until the export expires. */
    expires_at: z.number().int().nullable(),
    bytes: z.number().int().min(0).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  })
  .meta({ id: 'DataExport' });
export type DataExport = z.infer<typeof DataExport>;
