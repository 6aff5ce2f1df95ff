/** Request headers browsers may send cross-origin: ours plus those the official OpenAI SDKs add. */
export const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'X-Request-Id',
  'OpenAI-Organization',
  'OpenAI-Project',
  'X-Stainless-Arch',
  'X-Stainless-Lang',
  'X-Stainless-OS',
  'X-Stainless-Package-Version',
  'X-Stainless-Retry-Count',
  'X-Stainless-Runtime',
  'X-Stainless-Runtime-Version',
  'X-Stainless-Timeout',
  'X-Stainless-Helper-Method',
] as const;

/** Response headers the browser may read. */
export const CORS_EXPOSE_HEADERS = [
  'x-request-id',
  'x-conversation-id',
  'x-message-id',
  'x-context-turns-dropped',
  'retry-after',
  'retry-after-ms',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
] as const;

export const CORS_ALLOW_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Where the web app runs on a developer's machine (`npm start`'s web server and the vite dev server both listen on
 * 127.0.0.1:5173; browsers may name it either way): dev stages and the local stack allow these, prod never does.
 */
export const LOCAL_WEB_ORIGINS = ['http://127.0.0.1:5173', 'http://localhost:5173'] as const;
