/**
 * API errors as the app understands them, and the words a person sees for each. The API answers
 * `{"error":{"message","type","param","code"}}` (OpenAI's shape), also mid-stream as `data: {"error":…}`.
 */
export interface ApiErrorBody {
  readonly message: string;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
}

export class ApiRequestError extends Error {
  constructor(
    /** HTTP status; 0 when the error arrived inside a stream that had started with 200. */
    readonly status: number,
    readonly body: ApiErrorBody,
    /** Seconds to wait, from `retry-after` / `retry-after-ms`. */
    readonly retryAfterSeconds: number | undefined = undefined,
    readonly requestId: string | undefined = undefined,
  ) {
    super(body.message);
    this.name = 'ApiRequestError';
  }

  get code(): string | null {
    return this.body.code;
  }
}

/** The network failed (offline, connection reset, CORS): nothing usable came back. */
export class NetworkError extends Error {
  constructor(message = 'Network request failed') {
    super(message);
    this.name = 'NetworkError';
  }
}

/** Reads an error object from a parsed JSON body, if it is one. */
export function errorBodyOf(value: unknown): ApiErrorBody | undefined {
  if (typeof value !== 'object' || value === null || !('error' in value)) return undefined;
  const error = (value as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const fields = error as Record<string, unknown>;
  const text = (key: string) => (typeof fields[key] === 'string' ? (fields[key] as string) : null);
  return {
    message: text('message') ?? 'Something went wrong.',
    type: text('type') ?? 'server_error',
    param: text('param'),
    code: text('code'),
  };
}

/** `retry-after-ms` wins over `retry-after` (seconds or an HTTP date), as the OpenAI clients do. */
export function retryAfterSecondsOf(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Builds the error for a non-2xx response from its status, headers and body text. */
export function apiErrorFromResponse(status: number, headers: Headers, bodyText: string): ApiRequestError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    parsed = undefined;
  }
  const body = errorBodyOf(parsed) ?? {
    message: `The server answered ${status}.`,
    type: status >= 500 ? 'server_error' : 'invalid_request_error',
    param: null,
    code: null,
  };
  return new ApiRequestError(
    status,
    body,
    retryAfterSecondsOf(headers),
    headers.get('x-request-id') ?? undefined,
  );
}

export type ProblemKind =
  | 'rate_limit'
  | 'content_filter'
  | 'network'
  | 'unavailable'
  | 'waking'
  | 'session'
  | 'not_found'
  | 'invalid'
  | 'server';

/** What the UI shows for an error. */
export interface Problem {
  readonly kind: ProblemKind;
  readonly title: string;
  readonly detail: string;
  /** Seconds until retrying makes sense (429, 503). */
  readonly retryAfterSeconds?: number;
  /** A "Try again" button makes sense. */
  readonly retryable: boolean;
  /** Retry by itself once `retryAfterSeconds` have passed (the model is starting, nothing is wrong). */
  readonly autoRetry?: boolean;
  readonly requestId?: string;
}

const CATEGORY_LABELS: Record<string, string> = {
  prompt_injection: 'prompt injection',
  pii: 'personal data',
  blocklist: 'blocked terms',
  hate_speech: 'hate speech',
  harassment_or_abuse: 'harassment or abuse',
  violence_or_threat: 'violence or threats',
  self_harm: 'self-harm',
  classifier_unavailable: 'safety check unavailable',
};

/** The policy category of a content-filter error: the API names it in parentheses in the message. */
export function contentFilterCategory(message: string): string | undefined {
  const match = /\(([^()]+)\)\s*\.?\s*$/.exec(message) ?? /category[:\s]+([\w -]+)/i.exec(message);
  const raw = match?.[1]?.trim();
  if (!raw) return undefined;
  return CATEGORY_LABELS[raw.toLowerCase()] ?? raw.replaceAll('_', ' ').toLowerCase();
}

/** Automatic retries for one wake stop after this long (a wake takes minutes); the person can still retry. */
export const WAKE_AUTO_RETRY_MS = 15 * 60_000;
/** A `model_waking` answer this long after the previous one belongs to a new wake. */
const WAKE_GAP_MS = 2 * 60_000;
const wake = { since: Number.NEGATIVE_INFINITY, last: Number.NEGATIVE_INFINITY };

/** Whether to retry a `model_waking` answer by itself: only for the first minutes of one wake, so it ends. */
function autoRetryWake(now: number): boolean {
  if (now - wake.last > WAKE_GAP_MS) wake.since = now;
  wake.last = now;
  return now - wake.since < WAKE_AUTO_RETRY_MS;
}

/** Turns anything thrown by an API call into what a person should read. */
export function describeProblem(error: unknown, now: number = Date.now()): Problem {
  if (error instanceof NetworkError || (error instanceof TypeError && /fetch|network/i.test(error.message))) {
    return {
      kind: 'network',
      title: 'Connection lost',
      detail: 'chatstack could not be reached. Check your connection and try again.',
      retryable: true,
    };
  }
  if (!(error instanceof ApiRequestError)) {
    return {
      kind: 'server',
      title: 'Something went wrong',
      detail: error instanceof Error ? error.message : String(error),
      retryable: true,
    };
  }
  const requestId = error.requestId === undefined ? {} : { requestId: error.requestId };
  const { status, code } = error;
  if (code === 'content_filter') {
    const category = contentFilterCategory(error.message);
    return {
      kind: 'content_filter',
      title: 'Message blocked by the content policy',
      detail: category
        ? `Reason: ${category}. Rephrase your message and send it again.`
        : 'Rephrase your message and send it again.',
      retryable: false,
      ...requestId,
    };
  }
  if (status === 429 || error.body.type === 'rate_limit_error') {
    const wait = error.retryAfterSeconds ?? 20;
    return {
      kind: 'rate_limit',
      title: 'Too many requests',
      detail: error.message,
      retryAfterSeconds: wait,
      retryable: true,
      ...requestId,
    };
  }
  if (code === 'model_waking') {
    const autoRetry = autoRetryWake(now);
    return {
      kind: 'waking',
      title: 'The model is waking up',
      detail: autoRetry
        ? 'It was idle and is starting, which can take a few minutes. Your message is sent again by itself.'
        : 'It is taking longer than usual to start. Try again in a moment.',
      retryAfterSeconds: error.retryAfterSeconds ?? 10,
      retryable: true,
      autoRetry,
      ...requestId,
    };
  }
  if (code === 'model_unavailable' || status === 503 || status === 502 || status === 504) {
    return {
      kind: 'unavailable',
      title: 'The model is unavailable',
      detail: 'The model could not answer right now. Try again in a moment.',
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
      retryable: true,
      ...requestId,
    };
  }
  if (status === 401) {
    return {
      kind: 'session',
      title: 'Your session has ended',
      detail: 'Sign in again to continue. Your draft is kept.',
      retryable: false,
      ...requestId,
    };
  }
  if (status === 404) {
    return {
      kind: 'not_found',
      title: 'Not found',
      detail: 'This conversation does not exist or was deleted.',
      retryable: false,
      ...requestId,
    };
  }
  if (status >= 400 && status < 500) {
    return {
      kind: 'invalid',
      title: 'Request refused',
      detail: error.message,
      retryable: false,
      ...requestId,
    };
  }
  return {
    kind: 'server',
    title: 'Something went wrong',
    detail: error.status === 0 ? error.message : 'The server had a problem answering. Try again.',
    retryable: true,
    ...requestId,
  };
}
