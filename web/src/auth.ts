/**
 * Sign-in with OAuth 2.0 authorization code + PKCE (public client), using oauth4webapi for the protocol:
 * discovery, PKCE, state, token and refresh requests, ID token checks. Tokens live in sessionStorage (this tab
 * only) so a reload keeps the session; a refresh token, when the issuer grants one, renews them silently.
 */
import * as oauth from 'oauth4webapi';
import type { AppConfig } from './config';

const SESSION_KEY = 'chatstack.session';
const PENDING_KEY = 'chatstack.signin';
/** Renew this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

export interface Session {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly idToken?: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** The signed-in user's id (the token's `sub`). */
  readonly subject: string;
  /** A name to show: `email`, `name`, `preferred_username`, else the subject. */
  readonly displayName: string;
}

interface PendingSignIn {
  readonly codeVerifier: string;
  readonly state: string;
  readonly returnTo: string;
}

/** The session is over and could not be renewed: the user has to sign in again. */
export class SessionExpiredError extends Error {
  constructor() {
    super('Your session has ended. Sign in again to continue.');
    this.name = 'SessionExpiredError';
  }
}

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

function readJson<T>(key: string): T | undefined {
  try {
    const raw = sessionStorage.getItem(key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  } catch {
    return undefined;
  }
}

function claimText(claims: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = claims?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Reads `sub` from a JWT access token without verifying it (the API verifies; this is only for display). */
function subjectOfJwt(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json) as Record<string, unknown>;
    return claimText(claims, 'sub') ?? claimText(claims, 'username');
  } catch {
    return undefined;
  }
}

export class Auth {
  private session: Session | undefined;
  private refreshing: Promise<Session> | undefined;
  private refreshTimer: number | undefined;
  private readonly listeners = new Set<(session: Session | undefined) => void>();
  private readonly client: oauth.Client;
  private readonly options: { [oauth.allowInsecureRequests]?: boolean };

  private constructor(
    private readonly config: AppConfig,
    private readonly server: oauth.AuthorizationServer,
  ) {
    this.client = { client_id: config.clientId };
    // The local dev issuer speaks plain HTTP on loopback; anything else must be HTTPS.
    this.options = isLoopback(new URL(config.issuer)) ? { [oauth.allowInsecureRequests]: true } : {};
    this.session = readJson<Session>(SESSION_KEY);
    this.scheduleRefresh();
  }

  /** Fetches the issuer's discovery document. */
  static async discover(config: AppConfig): Promise<Auth> {
    const issuer = new URL(config.issuer);
    const options = isLoopback(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...options });
    return new Auth(config, await oauth.processDiscoveryResponse(issuer, response));
  }

  get current(): Session | undefined {
    return this.session;
  }

  onChange(listener: (session: Session | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether `url` is the OAuth redirect back to this app. */
  isCallback(url: URL): boolean {
    const redirect = new URL(this.config.redirectUri);
    return (
      url.pathname === redirect.pathname && (url.searchParams.has('code') || url.searchParams.has('error'))
    );
  }

  /** Sends the browser to the issuer's sign-in page; `returnTo` is the app path to come back to. */
  async signIn(returnTo: string): Promise<void> {
    if (!this.server.authorization_endpoint) throw new Error('The issuer has no authorization endpoint.');
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const pending: PendingSignIn = { codeVerifier, state, returnTo };
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    const url = new URL(this.server.authorization_endpoint);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.config.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', this.config.scopes);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    window.location.assign(url.href);
  }

  /** Finishes sign-in on the redirect back: checks state, redeems the code. Returns the path to go to. */
  async completeSignIn(url: URL): Promise<string> {
    const pending = readJson<PendingSignIn>(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    if (!pending) throw new Error('This sign-in link has already been used. Sign in again.');
    const params = oauth.validateAuthResponse(this.server, this.client, url.searchParams, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(
      this.server,
      this.client,
      oauth.None(),
      params,
      this.config.redirectUri,
      pending.codeVerifier,
      this.options,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(this.server, this.client, response);
    this.store(tokens, undefined);
    return pending.returnTo.startsWith('/') ? pending.returnTo : '/';
  }

  /** A valid access token, renewed first if it is about to expire. Throws `SessionExpiredError`. */
  async accessToken(): Promise<string> {
    const session = this.session;
    if (!session) throw new SessionExpiredError();
    if (session.expiresAt - Date.now() > REFRESH_MARGIN_MS / 2) return session.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** Renews the tokens with the refresh token (one request at a time). Throws `SessionExpiredError`. */
  refresh(): Promise<Session> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<Session> {
    const session = this.session;
    if (!session?.refreshToken) {
      this.expire();
      throw new SessionExpiredError();
    }
    try {
      const response = await oauth.refreshTokenGrantRequest(
        this.server,
        this.client,
        oauth.None(),
        session.refreshToken,
        this.options,
      );
      const tokens = await oauth.processRefreshTokenResponse(this.server, this.client, response);
      return this.store(tokens, session);
    } catch (error) {
      // The issuer refused the refresh token (revoked, expired): the session is over. A network failure is not.
      if (error instanceof oauth.ResponseBodyError || error instanceof oauth.AuthorizationResponseError) {
        this.expire();
        throw new SessionExpiredError();
      }
      throw error;
    }
  }

  /** Forgets the session locally, revokes the refresh token, and ends the issuer's session when it can. */
  async signOut(): Promise<void> {
    const session = this.session;
    this.clear();
    if (session?.refreshToken && this.server.revocation_endpoint) {
      try {
        const response = await oauth.revocationRequest(
          this.server,
          this.client,
          oauth.None(),
          session.refreshToken,
          this.options,
        );
        await oauth.processRevocationResponse(response);
      } catch {
        // Best effort: the local session is gone either way.
      }
    }
    const logout = this.logoutUrl(session);
    if (logout) window.location.assign(logout);
  }

  private logoutUrl(session: Session | undefined): string | undefined {
    const back = this.config.postLogoutRedirectUri ?? new URL('/', this.config.redirectUri).href;
    if (this.server.end_session_endpoint) {
      const url = new URL(this.server.end_session_endpoint);
      url.searchParams.set('client_id', this.config.clientId);
      url.searchParams.set('post_logout_redirect_uri', back);
      if (session?.idToken) url.searchParams.set('id_token_hint', session.idToken);
      return url.href;
    }
    // Cognito managed login publishes no end_session_endpoint; its logout lives beside /oauth2/authorize.
    const authorize = this.server.authorization_endpoint;
    if (authorize && new URL(authorize).pathname === '/oauth2/authorize') {
      const url = new URL('/logout', authorize);
      url.searchParams.set('client_id', this.config.clientId);
      url.searchParams.set('logout_uri', back);
      return url.href;
    }
    return undefined;
  }

  private store(tokens: oauth.TokenEndpointResponse, previous: Session | undefined): Session {
    const claims = oauth.getValidatedIdTokenClaims(tokens) as Record<string, unknown> | undefined;
    const subject =
      claimText(claims, 'sub') ?? previous?.subject ?? subjectOfJwt(tokens.access_token) ?? 'unknown user';
    const displayName =
      claimText(claims, 'email') ??
      claimText(claims, 'name') ??
      claimText(claims, 'preferred_username') ??
      previous?.displayName ??
      subject;
    const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
    const idToken = tokens.id_token ?? previous?.idToken;
    const session: Session = {
      accessToken: tokens.access_token,
      expiresAt: Date.now() + (tokens.expires_in ?? 300) * 1000,
      subject,
      displayName,
      ...(refreshToken === undefined ? {} : { refreshToken }),
      ...(idToken === undefined ? {} : { idToken }),
    };
    this.session = session;
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    this.scheduleRefresh();
    this.emit();
    return session;
  }

  /** Renews the tokens shortly before they expire, so a long chat never meets a 401. */
  private scheduleRefresh(): void {
    window.clearTimeout(this.refreshTimer);
    const session = this.session;
    if (!session?.refreshToken) return;
    const delay = Math.max(0, session.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    this.refreshTimer = window.setTimeout(() => {
      this.refresh().catch(() => undefined);
    }, delay);
  }

  private expire(): void {
    this.clear();
  }

  private clear(): void {
    window.clearTimeout(this.refreshTimer);
    this.session = undefined;
    sessionStorage.removeItem(SESSION_KEY);
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener(this.session);
  }
}
