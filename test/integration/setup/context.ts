/** What integration tests need from the shared local stack: its URLs and access tokens. */
import { inject } from 'vitest';
import { DEV_MACHINE_CLIENTS } from '../../../scripts/local/identity';
import type { LocalStackUrls } from '../../../scripts/local/stack';

export function stack(): LocalStackUrls {
  return inject('stack');
}

const tokens = new Map<string, Promise<string>>();

/** A `client_credentials` access token for dev-client-a or dev-client-b, with the given scopes. */
export function machineToken(
  client: keyof typeof DEV_MACHINE_CLIENTS,
  scope = 'chat:read chat:write',
): Promise<string> {
  const key = `${client} ${scope}`;
  let token = tokens.get(key);
  if (!token) {
    token = requestToken(stack().issuer, client, scope);
    tokens.set(key, token);
  }
  return token;
}

export async function requestToken(
  issuer: string,
  client: keyof typeof DEV_MACHINE_CLIENTS,
  scope: string,
): Promise<string> {
  const { clientId, clientSecret } = DEV_MACHINE_CLIENTS[client];
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    token_endpoint: string;
  };
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!res.ok || !body.access_token)
    throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** The API's OpenAI-compatible base URL. */
export function apiBase(): string {
  return `${stack().api}/v1`;
}

/** A JSON call to the local API with a bearer token: status, raw text and the parsed body on demand. */
export async function callApi(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${apiBase()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}
