import * as z from 'zod';
import { ApiError, ValidationError } from '../shared/errors';

/** Largest request body accepted, in bytes: a report is a message and a stack, never a payload. */
export const MAX_REPORT_BYTES = 8 * 1024;
/** Stack traces are cut to this many lines and characters before they are logged. */
export const MAX_STACK_LINES = 20;
export const MAX_STACK_CHARS = 4000;
export const MAX_MESSAGE_CHARS = 1000;

/** What the web app reports: an uncaught error, an unhandled rejection, or a failed API request. */
export const ClientErrorReportSchema = z.object({
  kind: z.enum(['uncaught', 'unhandledrejection', 'request']),
  message: z.string().min(1),
  stack: z.string().optional(),
  /** The page the error happened on. */
  pageUrl: z.string().max(2048).optional(),
  /** For `request` reports: the call that failed. */
  request: z
    .object({
      method: z.string().min(1).max(10),
      url: z.string().min(1).max(2048),
      status: z.number().int().min(0).max(599).optional(),
      requestId: z.string().max(128).optional(),
    })
    .optional(),
  userAgent: z.string().max(512).optional(),
  /** The web app's build/version, so errors can be tied to a deploy. */
  release: z.string().max(64).optional(),
  occurredAt: z.iso.datetime().optional(),
});
export type ClientErrorReport = z.infer<typeof ClientErrorReportSchema>;

export class PayloadTooLargeError extends ApiError {
  constructor(bytes: number) {
    super(
      413,
      'invalid_request_error',
      `Error report is ${bytes} bytes; the limit is ${MAX_REPORT_BYTES} bytes.`,
      null,
      'payload_too_large',
    );
  }
}

/** Decodes the raw body and enforces the size cap before anything parses it. */
export function bodyText(body: string | null, isBase64Encoded: boolean): string {
  if (body === null || body.length === 0)
    throw new ValidationError('Request body is required.', null, 'missing_body');
  const bytes = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.byteLength > MAX_REPORT_BYTES) throw new PayloadTooLargeError(bytes.byteLength);
  return bytes.toString('utf8');
}

/** Parses and validates a report; a failure is a 400 naming the first offending field. */
export function parseReport(text: string): ClientErrorReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError('Request body must be valid JSON.', null, 'invalid_json');
  }
  const parsed = ClientErrorReportSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : null;
    throw new ValidationError(
      `Invalid error report: ${param ?? 'body'}: ${issue?.message ?? 'invalid'}`,
      param,
    );
  }
  return parsed.data;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const SECRET_ASSIGNMENT =
  /\b(access_token|id_token|refresh_token|token|api[_-]?key|secret|password|authorization|code)(["']?\s*[:=]\s*["']?)[^\s"'&,;]+/gi;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
const LONG_NUMBER = /\b\d{12,19}\b/g;
/** A URL's query and fragment; a trailing `:line:col` of a stack frame is kept. */
const URL_QUERY =
  /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>()]+)([?#][^\s"'<>()]*?)((?::\d+){1,2})?(?=[\s"'<>()]|$)/gi;

/** Removes personal data and credentials from free text: emails, tokens, query strings and fragments of URLs. */
export function scrub(text: string): string {
  return text
    .replace(URL_QUERY, (_match, base: string, _query: string, position: string | undefined) => {
      return `${base}?[redacted]${position ?? ''}`;
    })
    .replace(JWT, '[token]')
    .replace(BEARER, '$1 [token]')
    .replace(SECRET_ASSIGNMENT, '$1$2[redacted]')
    .replace(EMAIL, '[email]')
    .replace(IPV4, '[ip]')
    .replace(LONG_NUMBER, '[number]');
}

/** Keeps the first lines of a stack trace, then a marker saying how much was cut. */
export function truncateStack(stack: string): string {
  const lines = stack.split('\n');
  let kept = lines.slice(0, MAX_STACK_LINES).join('\n');
  if (kept.length > MAX_STACK_CHARS) kept = kept.slice(0, MAX_STACK_CHARS);
  const cut = stack.length - kept.length;
  return cut > 0 ? `${kept}\n… [truncated ${cut} chars]` : kept;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… [truncated]` : text;
}

/** The report as it is logged: truncated and scrubbed, safe to keep. */
export function sanitizeReport(report: ClientErrorReport): ClientErrorReport {
  return {
    kind: report.kind,
    message: scrub(truncate(report.message, MAX_MESSAGE_CHARS)),
    ...(report.stack === undefined ? {} : { stack: scrub(truncateStack(report.stack)) }),
    ...(report.pageUrl === undefined ? {} : { pageUrl: scrub(report.pageUrl) }),
    ...(report.request === undefined
      ? {}
      : { request: { ...report.request, url: scrub(report.request.url) } }),
    ...(report.userAgent === undefined ? {} : { userAgent: report.userAgent }),
    ...(report.release === undefined ? {} : { release: report.release }),
    ...(report.occurredAt === undefined ? {} : { occurredAt: report.occurredAt }),
  };
}
