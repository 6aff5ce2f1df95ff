import { describe, expect, it } from 'vitest';
import {
  ApiRequestError,
  apiErrorFromResponse,
  contentFilterCategory,
  describeProblem,
  NetworkError,
  retryAfterSecondsOf,
  WAKE_AUTO_RETRY_MS,
} from '../../../web/src/errors';

const errorBody = (message: string, type: string, code: string | null, param: string | null = null) =>
  JSON.stringify({ error: { message, type, param, code } });

describe('describeProblem', () => {
  it('turns a 429 into a countdown from retry-after', () => {
    const error = apiErrorFromResponse(
      429,
      new Headers({ 'retry-after': '17', 'x-request-id': 'req-1' }),
      errorBody('Rate limit reached: 20 requests per minute.', 'rate_limit_error', 'rate_limit_exceeded'),
    );

    expect(describeProblem(error)).toMatchObject({
      kind: 'rate_limit',
      retryAfterSeconds: 17,
      requestId: 'req-1',
    });
  });

  it('names the content-filter category instead of echoing the text', () => {
    const error = apiErrorFromResponse(
      400,
      new Headers(),
      errorBody(
        'Your message was blocked by the content policy (prompt_injection).',
        'invalid_request_error',
        'content_filter',
        'messages',
      ),
    );

    const problem = describeProblem(error);

    expect(problem.kind).toBe('content_filter');
    expect(problem.detail).toContain('prompt injection');
    expect(problem.retryable).toBe(false);
  });

  it('offers a retry when the network is lost', () => {
    expect(describeProblem(new NetworkError())).toMatchObject({ kind: 'network', retryable: true });
    expect(describeProblem(new TypeError('Failed to fetch'))).toMatchObject({ kind: 'network' });
  });

  it('says the model is unavailable on a 503', () => {
    const error = apiErrorFromResponse(
      503,
      new Headers({ 'retry-after': '2' }),
      errorBody('The model is temporarily unavailable.', 'server_error', 'model_unavailable'),
    );

    expect(describeProblem(error)).toMatchObject({
      kind: 'unavailable',
      retryable: true,
      retryAfterSeconds: 2,
    });
  });

  it('says the model is waking up and retries by itself after retry-after', () => {
    const error = apiErrorFromResponse(
      503,
      new Headers({ 'retry-after': '10' }),
      errorBody('The model is waking up after being idle.', 'server_error', 'model_waking'),
    );

    expect(describeProblem(error)).toMatchObject({
      kind: 'waking',
      title: 'The model is waking up',
      retryable: true,
      autoRetry: true,
      retryAfterSeconds: 10,
    });
  });

  it('stops retrying by itself when one wake lasts longer than the limit, and starts again for a new wake', () => {
    const waking = () =>
      apiErrorFromResponse(
        503,
        new Headers({ 'retry-after': '10' }),
        errorBody('The model is waking up after being idle.', 'server_error', 'model_waking'),
      );
    // Later than any answer an earlier test described (the wake is tracked across calls, as in the app).
    const start = Date.now() + 24 * 3_600_000;
    let now = start;
    // Answers every 10 s, as the app's retries get them.
    while (now - start < WAKE_AUTO_RETRY_MS) {
      expect(describeProblem(waking(), now).autoRetry).toBe(true);
      now += 10_000;
    }
    expect(describeProblem(waking(), now)).toMatchObject({ autoRetry: false, retryable: true });
    // Quiet for a while, then a new wake: automatic again.
    expect(describeProblem(waking(), now + 10 * 60_000).autoRetry).toBe(true);
  });

  it('survives a body that is not JSON', () => {
    const error = apiErrorFromResponse(502, new Headers(), '<html>Bad gateway</html>');

    expect(error).toBeInstanceOf(ApiRequestError);
    expect(describeProblem(error).kind).toBe('unavailable');
  });
});

describe('retryAfterSecondsOf', () => {
  it('prefers retry-after-ms, and reads seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');

    expect(retryAfterSecondsOf(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), now)).toBe(2);
    expect(retryAfterSecondsOf(new Headers({ 'retry-after': '9' }), now)).toBe(9);
    expect(retryAfterSecondsOf(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now)).toBe(
      30,
    );
    expect(retryAfterSecondsOf(new Headers(), now)).toBeUndefined();
  });
});

describe('contentFilterCategory', () => {
  it('reads the category the API puts in parentheses', () => {
    expect(contentFilterCategory('Blocked by the content policy (pii).')).toBe('personal data');
    expect(contentFilterCategory('Blocked by the content policy (VIOLENCE_OR_THREAT).')).toBe(
      'violence or threats',
    );
    expect(contentFilterCategory('Blocked.')).toBeUndefined();
  });
});
