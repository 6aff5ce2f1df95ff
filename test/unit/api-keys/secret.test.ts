import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_PREFIX,
  generateApiKeySecret,
  hashApiKeySecret,
  isWellFormedApiKey,
  looksLikeApiKey,
  visiblePrefix,
} from '../../../lambdas/api-keys/secret';

describe('API key secrets', () => {
  it('start with the recognisable prefix and pass their own checksum', () => {
    for (let i = 0; i < 200; i += 1) {
      const secret = generateApiKeySecret();
      expect(secret).toMatch(/^csk_[0-9A-Za-z]{46}$/);
      expect(isWellFormedApiKey(secret)).toBe(true);
      expect(looksLikeApiKey(secret)).toBe(true);
    }
  });

  it('are never repeated', () => {
    const secrets = new Set(Array.from({ length: 2000 }, generateApiKeySecret));
    expect(secrets.size).toBe(2000);
  });

  it('fail the checksum when any one character is changed', () => {
    const secret = generateApiKeySecret();
    fc.assert(
      fc.property(
        fc.integer({ min: API_KEY_PREFIX.length, max: secret.length - 1 }),
        fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'),
        (position, replacement) => {
          fc.pre(secret[position] !== replacement);
          const typo = `${secret.slice(0, position)}${replacement}${secret.slice(position + 1)}`;
          expect(isWellFormedApiKey(typo)).toBe(false);
        },
      ),
    );
  });

  it('are refused when truncated, padded or carrying another prefix', () => {
    const secret = generateApiKeySecret();
    expect(isWellFormedApiKey(secret.slice(0, -1))).toBe(false);
    expect(isWellFormedApiKey(`${secret}x`)).toBe(false);
    expect(isWellFormedApiKey(`sk_${secret.slice(4)}`)).toBe(false);
  });

  it('are stored as a SHA-256 digest that does not contain them', () => {
    const secret = generateApiKeySecret();
    const digest = hashApiKeySecret(secret);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).toBe(hashApiKeySecret(secret));
    expect(digest).not.toContain(secret.slice(4, 12));
  });

  it('show only their first twelve characters in listings', () => {
    const secret = generateApiKeySecret();
    expect(visiblePrefix(secret)).toBe(secret.slice(0, 12));
    expect(visiblePrefix(secret).startsWith('csk_')).toBe(true);
  });

  it('are told apart from JWTs', () => {
    expect(looksLikeApiKey('eyJhbGciOiJSUzI1NiJ9.e30.sig')).toBe(false);
  });
});
