// Renewing a stored token under the config file's lock (print when it is due, `refresh`, the Node API's
// getToken), and turning Yandex's token answers into stored records. Loaded only for a refresh or a login.
import { apiForRecord, isExpired, loginAgain, needsRefresh, notLoggedIn, ofProfile, profileFlag, requireRecord, type UsableToken } from './credentials.js';
import { NotLoggedInError, OAuthError } from './errors.js';
import { DEFAULT_LOGIN_URL, DEFAULT_OAUTH_URL } from './settings.js';
import type { TokenResponse, YandexApi } from './oauth.js';
import type { Store, TokenRecord } from './store.js';

export interface RecordSource {
  clientId: string;
  clientSecret?: string;
  login?: string;
  deviceId?: string;
  deviceName?: string;
  /** The scope asked for: Yandex names the granted scope only when it is narrower. */
  requestedScope?: string;
  /** The base URLs the token came from; kept in the record only when they are not Yandex's. */
  oauthUrl?: string;
  loginUrl?: string;
  /** A `login --demo` token. */
  demo?: boolean;
}

/** The base URLs a record or a pending login keeps: only those that are not Yandex's (an emulator's). */
export function nonDefaultEndpoints(api: YandexApi): { oauthUrl?: string; loginUrl?: string } {
  return {
    oauthUrl: api.oauthUrl === DEFAULT_OAUTH_URL ? undefined : api.oauthUrl,
    loginUrl: api.loginUrl === DEFAULT_LOGIN_URL ? undefined : api.loginUrl,
  };
}

function withoutUndefined<T extends object>(value: T): T {
  // Leave absent fields out of the file rather than writing nulls.
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function expiresAtFrom(token: TokenResponse, now: Date): string | undefined {
  return token.expires_in ? new Date(now.getTime() + token.expires_in * 1000).toISOString() : undefined;
}

export function recordFromResponse(token: TokenResponse, source: RecordSource, now: Date): TokenRecord {
  return withoutUndefined<TokenRecord>({
    accessToken: token.access_token,
    refreshToken: token.refresh_token,
    tokenType: token.token_type,
    expiresAt: expiresAtFrom(token, now),
    scope: token.scope ?? source.requestedScope,
    clientId: source.clientId,
    clientSecret: source.clientSecret,
    login: source.login,
    obtainedAt: now.toISOString(),
    deviceId: source.deviceId,
    deviceName: source.deviceId ? source.deviceName : undefined,
    oauthUrl: source.oauthUrl,
    loginUrl: source.loginUrl,
    demo: source.demo || undefined,
  });
}

/**
 * The record after a refresh: Yandex may hand back the same access token with a new refresh token, and
 * rotates refresh tokens, so the newest of each is kept; everything about the login stays.
 */
export function recordAfterRefresh(current: TokenRecord, token: TokenResponse, now: Date): TokenRecord {
  return withoutUndefined<TokenRecord>({
    ...current,
    accessToken: token.access_token,
    refreshToken: token.refresh_token ?? current.refreshToken,
    tokenType: token.token_type ?? current.tokenType,
    // An answer without expires_in leaves the expiry unknown, not the old (past) one.
    expiresAt: expiresAtFrom(token, now),
    scope: token.scope ?? current.scope,
    obtainedAt: now.toISOString(),
  });
}

/** Why a `login --demo` token cannot be renewed, and the fix. */
export function demoCannotRefresh(profile: string): NotLoggedInError {
  const flag = profile === 'demo' ? '' : ` --profile ${profile}`;
  return new NotLoggedInError(
    `The token${ofProfile(profile)} is a demo token from the built-in emulator, which has stopped, so it cannot be refreshed. Run \`yandex-token login --demo${flag}\` again.`,
  );
}

/**
 * Refreshes the profile's token under the config file's lock. Inside the lock the record is read again:
 * unless `force`, a token that another process refreshed meanwhile is returned as it is, so that many
 * processes on one expired token make one refresh between them (Yandex rotates refresh tokens, and a
 * second refresh with the old one would fail). Failures leave the stored record as it was.
 */
export async function refreshRecord(
  store: Store,
  api: YandexApi,
  profile: string,
  now: () => Date,
  options: { force?: boolean } = {},
): Promise<UsableToken> {
  const oauth = await import('./oauth.js');
  return store.update(async (data) => {
    const current = Object.hasOwn(data.profiles, profile) ? data.profiles[profile] : undefined;
    if (!current) throw notLoggedIn(profile);
    if (!options.force && !needsRefresh(current, now())) return { record: current, refreshed: false };
    if (current.demo) throw demoCannotRefresh(profile);
    if (!current.refreshToken) {
      if (!options.force && !isExpired(current, now())) return { record: current, refreshed: false };
      throw new NotLoggedInError(
        isExpired(current, now())
          ? `The token${ofProfile(profile)} has expired and no refresh token is stored to renew it. ${loginAgain(profile)}`
          : `No refresh token is stored${ofProfile(profile)}, so the token cannot be refreshed. ${loginAgain(profile)}`,
      );
    }
    if (!current.clientSecret) {
      throw new NotLoggedInError(
        `No client secret is stored${ofProfile(profile)}, and refreshing the token needs it. Run \`yandex-token login${profileFlag(profile)}\` again with the app's client secret.`,
      );
    }
    let token: TokenResponse;
    try {
      token = await oauth.refreshToken(apiForRecord(api, current), {
        clientId: current.clientId,
        clientSecret: current.clientSecret,
        refreshToken: current.refreshToken,
      });
    } catch (error) {
      const cause = error instanceof NotLoggedInError ? error.cause : undefined;
      if (cause instanceof OAuthError) {
        const said = `${cause.code}${cause.description ? `: ${cause.description}` : ''}`;
        throw new NotLoggedInError(`Yandex refused to refresh the token${ofProfile(profile)} (${said}). ${loginAgain(profile)}`, {
          cause,
        });
      }
      throw error;
    }
    const record = recordAfterRefresh(current, token, now());
    data.profiles[profile] = record;
    return { record, refreshed: true };
  });
}

/** A refresh now, whatever the expiry (`yandex-token refresh`). */
export function forceRefresh(store: Store, api: YandexApi, profile: string, now: () => Date): Promise<UsableToken> {
  requireRecord(store, profile);
  return refreshRecord(store, api, profile, now, { force: true });
}
