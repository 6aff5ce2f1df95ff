/**
 * The local OAuth 2.0 / OIDC issuer (oidc-provider), standing in for Cognito under `npm start`.
 *
 * - People: authorization code + PKCE for the public web client `chatstack-web`. The dev login form accepts any
 *   login (field `login`) and any password (field `password`); the login becomes the user's `sub`.
 * - Machines: `client_credentials` for `dev-client-a` / `dev-secret-a` and `dev-client-b` / `dev-secret-b`
 *   (HTTP Basic client auth); their tokens' `sub` is the client id, as Cognito's are.
 * - Admins: the machine client `dev-admin` / `dev-secret-admin`, and the dev login `admin` (or `admin-<name>`),
 *   get `cognito:groups: ["admin"]` in their access tokens, as members of the Cognito pool's `admin` group do.
 * Access tokens are RS256 JWTs (`typ: at+jwt`) for the audience `API_AUDIENCE`, with scopes `chat:read chat:write`,
 * shaped like Cognito's where the authorizer reads them: `client_id`, a space-separated `scope` and
 * `token_use: access` (the one claim oidc-provider does not add on its own).
 * The signing key is persisted under the data directory so tokens survive a restart. Local development only.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';

import {
  API_AUDIENCE,
  API_SCOPES,
  DEV_ADMIN_GROUP,
  DEV_MACHINE_CLIENTS,
  isDevAdmin,
  WEB_CLIENT_ID,
} from './identity';

export { API_AUDIENCE, API_SCOPES, DEV_MACHINE_CLIENTS, WEB_CLIENT_ID };

export interface IssuerOptions {
  readonly host: string;
  readonly port: number;
  /** Where the signing key is kept. */
  readonly dataDir: string;
  /** Origins of the web app; `<origin>/callback` is its redirect URI. */
  readonly webOrigins: readonly string[];
  /** Access token lifetime. @default 900 (15 minutes, as in the cloud) */
  readonly accessTokenTtlSeconds?: number;
}

export interface RunningIssuer {
  readonly url: string;
  close(): Promise<void>;
}

async function loadOrCreateSigningKey(dataDir: string): Promise<JWK> {
  const file = join(dataDir, 'issuer-signing-key.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: `local-${Date.now()}` };
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(jwk), { mode: 0o600 });
    return jwk;
  }
}

export async function startIssuer(options: IssuerOptions): Promise<RunningIssuer> {
  const url = `http://${options.host}:${options.port}`;
  const signingKey = await loadOrCreateSigningKey(options.dataDir);
  const scopes = API_SCOPES.join(' ');
  const configuration: Configuration = {
    clients: [
      {
        client_id: WEB_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: options.webOrigins.map((origin) => `${origin}/callback`),
        post_logout_redirect_uris: options.webOrigins.map((origin) => `${origin}/`),
        scope: `openid offline_access ${scopes}`,
      },
      ...Object.values(DEV_MACHINE_CLIENTS).map((client) => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic' as const,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: scopes,
      })),
    ],
    jwks: { keys: [signingKey] },
    scopes: ['openid', 'offline_access', ...API_SCOPES],
    claims: { openid: ['sub'] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: scopes,
          audience: API_AUDIENCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: options.accessTokenTtlSeconds ?? 900,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    ttl: {
      ClientCredentials: options.accessTokenTtlSeconds ?? 900,
      RefreshToken: 30 * 24 * 3600,
      Session: 24 * 3600,
      Grant: 30 * 24 * 3600,
    },
    // Cognito marks its access tokens so that an id token can never pass for one; the authorizer checks it.
    // Group membership as Cognito's tokens carry it (`cognito:groups`), for the admin API.
    extraTokenClaims: async (_ctx, token) => {
      const subject = 'accountId' in token && token.accountId ? token.accountId : token.clientId;
      return {
        token_use: 'access',
        ...(subject && isDevAdmin(subject) ? { 'cognito:groups': [DEV_ADMIN_GROUP] } : {}),
      };
    },
    // Refresh tokens for the web client whenever it asks for offline access.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // First-party app: grant what the web client asks for without a consent screen.
    loadExistingGrant: async (ctx) => {
      const session = ctx.oidc.session;
      const client = ctx.oidc.client;
      if (!session?.accountId || !client) return undefined;
      const grantId = session.grantIdFor(client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid offline_access');
      grant.addResourceScope(API_AUDIENCE, scopes);
      await grant.save();
      return grant;
    },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    clientBasedCORS: (_ctx, origin) => options.webOrigins.includes(origin),
    cookies: { keys: [signingKey.kid ?? 'local-cookie-key'] },
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };

  const provider = new Provider(url, configuration);
  const server: Server = await new Promise((resolve, reject) => {
    const listening = provider.listen(options.port, options.host);
    listening.once('listening', () => resolve(listening));
    listening.once('error', reject);
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
