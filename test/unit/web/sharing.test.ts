import { describe, expect, it } from 'vitest';
import { newShareId, shareUrl } from '../../../lambdas/sharing/store';
import { shareIdFromPath } from '../../../web/src/sharing-api';

describe('share links', () => {
  it('opens the public page for the URL the API hands out', () => {
    const id = newShareId();
    const url = new URL(shareUrl('https://chat.example.com,http://localhost:5173', id));

    expect(url.origin).toBe('https://chat.example.com');
    expect(shareIdFromPath(url.pathname)).toBe(id);
  });

  it('draws 128 random bits per id', () => {
    const ids = new Set(Array.from({ length: 1000 }, newShareId));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^shr_[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id.slice(4), 'base64url')).toHaveLength(16);
    }
  });

  it('ignores paths that are not a share page', () => {
    for (const path of [
      '/',
      '/s/',
      '/s/shr_short',
      '/c/conv_0123456789abcdef0123456789abcdef',
      '/s/../admin',
    ]) {
      expect(shareIdFromPath(path)).toBeUndefined();
    }
  });

  it('gives a path on the API’s origin when no web origin is configured', () => {
    expect(shareUrl('*', 'shr_AbCdEfGhIjKlMnOpQrStUv')).toBe('/s/shr_AbCdEfGhIjKlMnOpQrStUv');
  });
});
