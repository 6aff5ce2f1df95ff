import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../web/src/config';

const local = {
  apiBaseUrl: 'http://127.0.0.1:3000/',
  issuer: 'http://127.0.0.1:3001',
  clientId: 'chatstack-web',
  scopes: 'openid chat:read chat:write offline_access',
  redirectUri: 'http://127.0.0.1:5173/callback',
};

describe('parseConfig', () => {
  it('accepts the local stack config and normalises the API base URL', () => {
    expect(parseConfig(local)).toMatchObject({
      apiBaseUrl: 'http://127.0.0.1:3000',
      clientId: 'chatstack-web',
    });
    expect(parseConfig({ ...local, apiBaseUrl: 'https://api.example.com/prod/v1' }).apiBaseUrl).toBe(
      'https://api.example.com/prod',
    );
  });

  it('accepts scopes as a list', () => {
    expect(parseConfig({ ...local, scopes: ['openid', 'chat:read'] }).scopes).toBe('openid chat:read');
  });

  it('names the missing field', () => {
    const { clientId: _omitted, ...withoutClient } = local;

    expect(() => parseConfig(withoutClient)).toThrow(/clientId/);
  });
});
