import { describe, expect, it } from 'vitest';
import {
  bodyText,
  MAX_REPORT_BYTES,
  MAX_STACK_LINES,
  parseReport,
  sanitizeReport,
  scrub,
  truncateStack,
} from '../../../lambdas/client-errors/report';
import { ValidationError } from '../../../lambdas/shared/errors';

describe('scrub', () => {
  it('replaces email addresses', () => {
    expect(scrub('cannot load profile of jane.doe+x@example.co.uk')).toBe('cannot load profile of [email]');
  });

  it('removes query strings and fragments from URLs but keeps the stack position', () => {
    const frame = 'at load (https://chat.example.com/assets/app.js?token=abc123&v=2:10:5)';
    expect(scrub(frame)).toBe('at load (https://chat.example.com/assets/app.js?[redacted]:10:5)');
    expect(scrub('GET https://api.example.com/v1/x#access_token=zzz failed')).toBe(
      'GET https://api.example.com/v1/x?[redacted] failed',
    );
  });

  it('leaves URLs without a query alone', () => {
    expect(scrub('at https://chat.example.com/assets/app.js:1:2')).toBe(
      'at https://chat.example.com/assets/app.js:1:2',
    );
  });

  it('replaces bearer tokens, JWTs and secret assignments', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl';
    expect(scrub(`Authorization: Bearer ${jwt}`)).not.toContain('eyJ');
    expect(scrub(`token ${jwt} rejected`)).toBe('token [token] rejected');
    expect(scrub('refresh_token=r-123 and password: "hunter2"')).toBe(
      'refresh_token=[redacted] and password: "[redacted]"',
    );
  });

  it('replaces IP addresses and long numbers such as card numbers', () => {
    expect(scrub('from 192.168.1.20 card 4111111111111111')).toBe('from [ip] card [number]');
  });
});

describe('truncateStack', () => {
  it('keeps the first lines and says how much was cut', () => {
    const stack = Array.from(
      { length: 100 },
      (_, i) => `    at frame${i} (https://x.example/app.js:${i}:1)`,
    ).join('\n');
    const truncated = truncateStack(stack);
    expect(truncated.split('\n')).toHaveLength(MAX_STACK_LINES + 1);
    expect(truncated).toMatch(/\[truncated \d+ chars\]$/);
  });

  it('leaves a short stack unchanged', () => {
    expect(truncateStack('Error: x\n    at a (b.js:1:1)')).toBe('Error: x\n    at a (b.js:1:1)');
  });
});

describe('parseReport', () => {
  it('names the offending field in a validation error', () => {
    const error = (() => {
      try {
        parseReport(
          JSON.stringify({
            kind: 'request',
            message: 'failed',
            request: { method: 'GET', url: 'x', status: 'oops' },
          }),
        );
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).param).toBe('request.status');
  });

  it('rejects a body that is not JSON', () => {
    expect(() => parseReport('{not json')).toThrow(/valid JSON/);
  });
});

describe('bodyText', () => {
  it('rejects a body over the size cap with 413', () => {
    const big = JSON.stringify({ kind: 'uncaught', message: 'x'.repeat(MAX_REPORT_BYTES) });
    expect(() => bodyText(big, false)).toThrow(expect.objectContaining({ statusCode: 413 }));
  });

  it('decodes base64 bodies', () => {
    expect(bodyText(Buffer.from('{"a":1}').toString('base64'), true)).toBe('{"a":1}');
  });
});

describe('sanitizeReport', () => {
  it('scrubs every free-text field', () => {
    const report = sanitizeReport({
      kind: 'request',
      message: 'failed for bob@example.com',
      pageUrl: 'https://chat.example.com/c/1?code=secret',
      request: { method: 'POST', url: 'https://api.example.com/v1/chat/completions?key=k', status: 500 },
    });
    expect(JSON.stringify(report)).not.toMatch(/bob@|secret|key=k/);
    expect(report.request?.status).toBe(500);
  });
});
