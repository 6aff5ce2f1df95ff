import type * as z from 'zod';
import { LIMITS } from '../contracts/api';
import { ValidationError } from '../shared/errors';

/** The parts of an API Gateway proxy event the parsers read. */
export interface BodySource {
  readonly body: string | null;
  readonly isBase64Encoded?: boolean;
}

/** `['messages', 3, 'content']` → `messages[3].content`, the way OpenAI names a field in `param`. */
export function paramOf(path: readonly PropertyKey[]): string | null {
  let param = '';
  for (const segment of path) {
    if (typeof segment === 'number') param += `[${segment}]`;
    else param += param === '' ? String(segment) : `.${String(segment)}`;
  }
  return param === '' ? null : param;
}

/** Turns the first zod issue into a `ValidationError` naming the field (unknown keys name the key itself). */
export function toValidationError(error: z.ZodError, prefix: readonly PropertyKey[] = []): ValidationError {
  const issue = error.issues[0];
  if (issue === undefined) return new ValidationError('Invalid request.');
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const param = paramOf([...path, key]);
    return new ValidationError(
      `Unrecognized request argument supplied: ${param ?? key}`,
      param,
      'unknown_parameter',
    );
  }
  const param = paramOf(path);
  const where = param === null ? '' : `Invalid '${param}': `;
  return new ValidationError(`${where}${issue.message}`, param, 'invalid_value');
}

/** Parses a value with a schema, or throws a `ValidationError` naming the field. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: readonly PropertyKey[] = [],
): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw toValidationError(result.error, prefix);
  return result.data;
}

/** Reads the raw body text, enforcing the size limit on its UTF-8 bytes. */
export function readBody(source: BodySource, maxBytes: number = LIMITS.maxBodyBytes): string {
  if (source.body === null || source.body === undefined || source.body === '') {
    throw new ValidationError('The request body is empty; expected a JSON object.', null, 'invalid_json');
  }
  const bytes = source.isBase64Encoded ? Buffer.from(source.body, 'base64') : undefined;
  const size = bytes ? bytes.length : Buffer.byteLength(source.body, 'utf8');
  if (size > maxBytes) {
    throw new ValidationError(
      `The request body is ${size} bytes; the limit is ${maxBytes} bytes.`,
      null,
      'request_too_large',
    );
  }
  return bytes ? bytes.toString('utf8') : source.body;
}

/** Body → JSON → schema. Every failure is a 400 `ValidationError`, never a 500. */
export function parseJsonBody<S extends z.ZodType>(
  source: BodySource,
  schema: S,
  maxBytes: number = LIMITS.maxBodyBytes,
): z.infer<S> {
  const raw = readBody(source, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ValidationError(
      'We could not parse the JSON body of your request. Expected a JSON object.',
      null,
      'invalid_json',
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('The request body must be a JSON object.', null, 'invalid_json');
  }
  return parseWith(schema, value);
}

/** Query string parameters (single-valued) against a schema; absent → `{}`. */
export function parseQuery<S extends z.ZodType>(
  query: Readonly<Record<string, string | undefined>> | null,
  schema: S,
): z.infer<S> {
  const defined: Record<string, string> = {};
  for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) defined[name] = value;
  return parseWith(schema, defined);
}

/** A path parameter against a schema; the param is named after the path placeholder. */
export function parsePathParam<S extends z.ZodType>(
  params: Readonly<Record<string, string | undefined>> | null,
  name: string,
  schema: S,
): z.infer<S> {
  return parseWith(schema, params?.[name], [name]);
}
