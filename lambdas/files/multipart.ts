import type { APIGatewayProxyEvent } from 'aws-lambda';
import { FILE_LIMITS, FilePurpose, isSafeFilename } from '../contracts/files';
import { ValidationError } from '../shared/errors';
import type { InlineUpload } from './service';

/**
 * Reads OpenAI's multipart upload (`file`, `purpose`) with the platform's own form-data parser (the Fetch API's
 * `Request.formData()`). API Gateway delivers multipart bodies base64-encoded (a binary media type).
 */
export async function parseMultipartUpload(
  event: APIGatewayProxyEvent,
  contentType: string,
): Promise<InlineUpload> {
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  // Base64 and form framing add little beyond the file itself; a far larger body is refused before parsing.
  if (body.byteLength > FILE_LIMITS.maxInlineBytes + 64 * 1024) {
    throw new ValidationError(
      `The request is ${body.byteLength} bytes; a multipart upload takes files of at most ${FILE_LIMITS.maxInlineBytes} bytes. ` +
        'For larger files send JSON {filename, bytes, content_type} to get an upload URL.',
      'file',
      'file_too_large',
    );
  }
  let form: FormData;
  try {
    form = await new Request('http://localhost/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    }).formData();
  } catch {
    throw new ValidationError('The multipart body could not be parsed.', 'file', 'invalid_multipart');
  }
  const file = form.get('file');
  if (file === null || typeof file === 'string') {
    throw new ValidationError(
      "Missing required parameter: 'file' (a file part).",
      'file',
      'missing_required_parameter',
    );
  }
  const purposeValue = form.get('purpose');
  if (typeof purposeValue !== 'string') {
    throw new ValidationError(
      "Missing required parameter: 'purpose'.",
      'purpose',
      'missing_required_parameter',
    );
  }
  const purpose = FilePurpose.safeParse(purposeValue);
  if (!purpose.success) {
    throw new ValidationError(
      `Invalid 'purpose': expected one of ${FilePurpose.options.join(', ')}.`,
      'purpose',
      'invalid_value',
    );
  }
  const filename = file.name.trim();
  if (!isSafeFilename(filename)) {
    throw new ValidationError(
      'The file part needs a filename without slashes or control characters.',
      'file',
      'invalid_filename',
    );
  }
  return {
    filename,
    contentType: file.type === '' ? undefined : file.type,
    purpose: purpose.data,
    body: new Uint8Array(await file.arrayBuffer()),
  };
}
