/**
 * What the admin tests share: a person signed in through the dev issuer's login form (authorization code +
 * PKCE, as the web app does), so each test has its own user, and the admin machine client's token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { WEB_CLIENT_ID } from '../../../scripts/local/identity';
import { machineToken, stack } from '../setup/context';

const base64url = (bytes: Buffer) => bytes.toString('base64url');

/**
 * Follows the issuer's redirects by hand, keeping its cookies; stops at a page (the login or consent form) or at
 * the redirect to the web app's callback. Returns the last response and the URL it came from.
 */
async function follow(
  start: string,
  jar: Map<string, string>,
  init?: RequestInit,
): Promise<{ response: Response; url: URL }> {
  let url = new URL(start);
  let response = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...init?.headers, cookie: cookieHeader(jar) },
  });
  for (let hop = 0; hop < 10; hop++) {
    keepCookies(response, jar);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { response, url };
    const next = new URL(location, url);
    if (next.pathname === '/callback') return { response, url: next };
    url = next;
    response = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader(jar) } });
  }
  throw new Error('too many redirects at the issuer');
}

function keepCookies(response: Response, jar: Map<string, string>): void {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair = ''] = cookie.split(';');
    const index = pair.indexOf('=');
    if (index > 0) jar.set(pair.slice(0, index), pair.slice(index + 1));
  }
}

const cookieHeader = (jar: Map<string, string>) =>
  [...jar].map(([name, value]) => `${name}=${value}`).join('; ');

/** An access token for the person whose dev login is `login` (their `sub`). */
export async function personToken(login: string): Promise<string> {
  const issuer = stack().issuer;
  const redirectUri = `${stack().web}/callback`;
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const jar = new Map<string, string>();
  const authorize = new URL(`${issuer}/auth`);
  for (const [name, value] of Object.entries({
    client_id: WEB_CLIENT_ID,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid chat:read chat:write',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: base64url(randomBytes(8)),
  }))
    authorize.searchParams.set(name, value);
  let step = await follow(authorize.href, jar);
  // The dev issuer's forms: the login (any login and password), then the consent to the web client's scopes.
  for (const prompt of ['login', 'consent']) {
    if (step.url.pathname === '/callback') break;
    if (!step.url.pathname.startsWith('/interaction/')) throw new Error(`unexpected page ${step.url.href}`);
    step = await follow(step.url.href, jar, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt }),
    });
  }
  const code = step.url.searchParams.get('code');
  if (!code) throw new Error(`no authorization code: ${step.response.status} ${step.url.href}`);
  const token = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: WEB_CLIENT_ID,
      code_verifier: verifier,
    }),
  });
  const body = (await token.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token exchange failed: ${token.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** The admin machine client `dev-admin`, a member of the `admin` group. */
export const adminToken = () => machineToken('admin');
