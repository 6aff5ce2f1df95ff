/** Runtime settings, read from `/config.json` at start (written by the local stack or the CDK web-hosting construct). */
export interface AppConfig {
  /** The API's origin (and optional stage path), without `/v1`. */
  readonly apiBaseUrl: string;
  /** OAuth 2.0 / OIDC issuer; discovery lives at `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly clientId: string;
  /** Space-separated scopes, e.g. `openid chat:read chat:write offline_access`. */
  readonly scopes: string;
  readonly redirectUri: string;
  /** Where the browser goes after sign-out; defaults to the app's origin. */
  readonly postLogoutRedirectUri?: string;
}

function requiredString(source: Record<string, unknown>, key: string): string {
  const value = source[key];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`config.json: "${key}" must be a non-empty string`);
  }
  return value.trim();
}

/** Validates the parsed `config.json`; `scopes` may be a string or a list. */
export function parseConfig(value: unknown): AppConfig {
  if (typeof value !== 'object' || value === null) throw new Error('config.json must be a JSON object');
  const source = value as Record<string, unknown>;
  const scopes = Array.isArray(source.scopes) ? source.scopes.join(' ') : requiredString(source, 'scopes');
  const postLogout = source.postLogoutRedirectUri;
  return {
    apiBaseUrl: requiredString(source, 'apiBaseUrl').replace(/\/+$/, '').replace(/\/v1$/, ''),
    issuer: requiredString(source, 'issuer').replace(/\/+$/, ''),
    clientId: requiredString(source, 'clientId'),
    scopes,
    redirectUri: requiredString(source, 'redirectUri'),
    ...(typeof postLogout === 'string' && postLogout !== '' ? { postLogoutRedirectUri: postLogout } : {}),
  };
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return parseConfig(await response.json());
}
