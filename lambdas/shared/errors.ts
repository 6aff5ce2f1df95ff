/**
 * Typed errors thrown by the domain modules, and the one mapping that turns any error into an HTTP status and
 * an OpenAI error object (`{"error":{"message","type","param","code"}}`).
 */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly type: OpenAiErrorType,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  toBody(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A request that breaks the schema or a limit; `param` names the offending field. */
export class ValidationError extends ApiError {
  constructor(message: string, param: string | null = null, code: string | null = 'invalid_value') {
    super(400, 'invalid_request_error', message, param, code);
  }
}

export class AuthenticationError extends ApiError {
  constructor(message = 'Missing or invalid access token.') {
    super(401, 'authentication_error', message, null, 'invalid_token');
  }
}

export class PermissionError extends ApiError {
  constructor(message: string) {
    super(403, 'permission_error', message, null, 'insufficient_scope');
  }
}

/** Also used for other users' resources: their existence is never revealed. */
export class NotFoundError extends ApiError {
  constructor(what: string, param: string | null = null) {
    super(404, 'not_found_error', `${what} not found.`, param, 'not_found');
  }
}

/** A `model` this deployment does not serve: OpenAI's own 404 (`invalid_request_error`, `model_not_found`). */
export class ModelNotFoundError extends ApiError {
  constructor(model: string) {
    super(
      404,
      'invalid_request_error',
      `The model '${model.slice(0, 128)}' does not exist or you do not have access to it.`,
      'model',
      'model_not_found',
    );
  }
}

/** A write of work that started before its user's data was erased: refused, so nothing comes back. */
export class UserErasedError extends ApiError {
  constructor() {
    super(
      410,
      'invalid_request_error',
      'Your data was erased while this request was running.',
      null,
      'user_erased',
    );
  }
}

/** A route's resource exists but not with this method. */
export class MethodNotAllowedError extends ApiError {
  constructor(method: string) {
    super(405, 'invalid_request_error', `Method ${method} is not allowed here.`, null, 'method_not_allowed');
  }
}

export class ConflictError extends ApiError {
  constructor(message: string, code = 'conflict') {
    super(409, 'invalid_request_error', message, null, code);
  }
}

export class QuotaExceededError extends ApiError {
  constructor(message: string, retryAfterSeconds: number, headers: Readonly<Record<string, string>> = {}) {
    super(429, 'rate_limit_error', message, null, 'rate_limit_exceeded', {
      ...headers,
      'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}

/** Input refused by moderation; `category` is the policy category, never the offending text. */
export class ContentFilteredError extends ApiError {
  constructor(
    readonly category: string,
    message = `Your message was blocked by the content policy (${category}).`,
  ) {
    super(400, 'invalid_request_error', message, 'messages', 'content_filter');
  }
}

/** No inference endpoint could answer. */
export class InferenceUnavailableError extends ApiError {
  constructor(
    message = 'The model is temporarily unavailable. Please retry shortly.',
    retryAfterSeconds = 2,
    code: 'model_unavailable' | 'model_overloaded' | 'model_waking' = 'model_unavailable',
  ) {
    super(503, 'server_error', message, null, code, {
      'retry-after': String(retryAfterSeconds),
    });
  }
}

/** Maps anything thrown to an `ApiError`; unknown errors become an opaque 500 (details go to the log only). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(
    500,
    'server_error',
    'The server had an error while processing your request.',
    null,
    'internal_error',
  );
}
