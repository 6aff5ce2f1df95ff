import * as z from 'zod';

/**
 * The S3 event notification an SQS message carries (`ObjectCreated:*` for the files bucket). S3 also sends an
 * `s3:TestEvent` when notifications are configured: it has no records and is ignored.
 */
const S3EventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string(),
        s3: z.object({ object: z.object({ key: z.string(), size: z.number().optional() }) }),
      }),
    )
    .default([]),
});

/** Keys of the created objects a message names (S3 URL-encodes keys in events, spaces as `+`). */
export function createdObjectKeys(body: string): string[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = S3EventSchema.safeParse(value);
  if (!parsed.success) return undefined;
  return parsed.data.Records.filter((record) => record.eventName.startsWith('ObjectCreated:')).map((record) =>
    decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')),
  );
}
