// Turning Yandex's token answers into stored records, and reading a usable token back: the one code path
// (print, refresh and the Node API's getToken) that decides when to refresh and does it under the file's lock.
import type { Context } from './context.js';
import { CancelledError, NotLoggedInError, OAuthError, TerminatedError, UserError } from './errors.js';
import type { TokenResponse, YandexApi } from './oauth.js';
import type { ConfigData, Store, TokenRecord } from './store.js';

/** print refreshes a token that expires within this long, so that a script never gets one about to die. */
export const REFRESH_MARGIN_MS = 60_000;

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

/**
 * The endpoints for requests about a stored token: the ones it was issued by (an emulator's, kept in the
 * record) unless the environment names others explicitly (YANDEX_OAUTH_URL / YANDEX_LOGIN_URL win).
 */
export function apiForRecord(api: YandexApi, record: TokenRecord): YandexApi {
  const oauthUrl = api.oauthUrlFromEnv ? api.oauthUrl : (record.oauthUrl ?? api.oauthUrl);
  const loginUrl = api.loginUrlFromEnv ? api.loginUrl : (record.loginUrl ?? api.loginUrl);
  return oauthUrl === api.oauthUrl && loginUrl === api.loginUrl ? api : { ...api, oauthUrl, loginUrl };
}

/** Why a `login --demo` token cannot be renewed, and the fix. */
export function demoCannotRefresh(profile: string): NotLoggedInError {
  const flag = profile === 'demo' ? '' : ` --profile ${profile}`;
  return new NotLoggedInError(
    `The token${ofProfile(profile)} is a demo token from the built-in emulator, which has stopped, so it cannot be refreshed. Run \`yandex-token login --demo${flag}\` again.`,
  );
}

/** " --profile NAME" for commands in messages, empty for the default profile. */
export function profileFlag(profile: string): string {
  return profile === 'default' ? '' : ` --profile ${profile}`;
}

/** ' (profile "NAME")' for sentences, empty for the default profile. */
export function ofProfile(profile: string): string {
  return profile === 'default' ? '' : ` (profile "${profile}")`;
}

/** The fix for a token that cannot be used: a new login into the same profile. */
export function loginAgain(profile: string): string {
  return `Run \`yandex-token login${profileFlag(profile)}\` again.`;
}

export function notLoggedIn(profile: string): NotLoggedInError {
  return new NotLoggedInError(`Not logged in${ofProfile(profile)}. Run \`yandex-token login${profileFlag(profile)}\` first.`);
}

/** The stored record for a profile, or NotLoggedInError. */
export function requireRecord(store: Store, profile: string): TokenRecord {
  const record = store.get(profile);
  if (!record) throw notLoggedIn(profile);
  return record;
}

/** Milliseconds until the access token expires, or undefined when Yandex never said. */
export function msUntilExpiry(record: TokenRecord, now: Date): number | undefined {
  if (!record.expiresAt) return undefined;
  const at = Date.parse(record.expiresAt);
  return Number.isFinite(at) ? at - now.getTime() : undefined;
}

export function isExpired(record: TokenRecord, now: Date): boolean {
  const left = msUntilExpiry(record, now);
  return left !== undefined && left <= 0;
}

/** Expired, or expiring within REFRESH_MARGIN_MS. */
export function needsRefresh(record: TokenRecord, now: Date): boolean {
  const left = msUntilExpiry(record, now);
  return left !== undefined && left <= REFRESH_MARGIN_MS;
}

export interface UsableToken {
  record: TokenRecord;
  /** Whether this call refreshed it (false when it was fresh, or another process had just refreshed it). */
  refreshed: boolean;
  /** Set when a refresh ahead of expiry failed and the still-valid token is returned anyway. */
  warning?: string;
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

/**
 * The profile's token, refreshed first when it has expired or expires within a minute. The fast path
 * (a fresh token) only reads the file; the lock, conf and the protocol are loaded only for a refresh.
 * When a refresh ahead of expiry fails, the still-valid token is returned with a warning.
 */
export async function getValidToken(store: Store, api: YandexApi, profile: string, now: () => Date): Promise<UsableToken> {
  const record = requireRecord(store, profile);
  if (!needsRefresh(record, now())) return { record, refreshed: false };
  if (!record.refreshToken && !isExpired(record, now())) return { record, refreshed: false };
  // A demo token is printed while it lasts; its emulator is gone, so no refresh is tried ahead of expiry.
  if (record.demo && !isExpired(record, now())) return { record, refreshed: false };
  try {
    return await refreshRecord(store, api, profile, now);
  } catch (error) {
    const left = msUntilExpiry(record, now());
    const interrupted = error instanceof CancelledError || error instanceof TerminatedError;
    if (left !== undefined && left > 0 && error instanceof UserError && !interrupted) {
      return {
        record,
        refreshed: false,
        warning: `Could not refresh the token, which expires in ${Math.ceil(left / 1000)} s: ${error.message}`,
      };
    }
    throw error;
  }
}

/** A refresh now, whatever the expiry (`yandex-token refresh`). */
export function forceRefresh(store: Store, api: YandexApi, profile: string, now: () => Date): Promise<UsableToken> {
  requireRecord(store, profile);
  return refreshRecord(store, api, profile, now, { force: true });
}

/** What `print` writes and the Node API's getToken returns. */
export interface CurrentToken {
  token: string;
  /** The stored record the token came from; absent when it came from YANDEX_TOKEN. */
  record?: TokenRecord;
  source: 'config' | 'environment';
}

/**
 * The token to use now, for `print` and getToken alike: YANDEX_TOKEN when set (as GH_TOKEN does for gh:
 * the environment wins and nothing is read), else the profile's, refreshed first when due (or always,
 * with `force`). A warning (a refresh ahead of expiry failed, the token still works) goes to ctx.err.
 */
export async function currentToken(
  ctx: Pick<Context, 'settings' | 'store' | 'api' | 'now' | 'err'>,
  profile: string,
  options: { force?: boolean } = {},
): Promise<CurrentToken> {
  if (ctx.settings.token) {
    if (options.force) {
      throw new NotLoggedInError('The token comes from YANDEX_TOKEN, which cannot be refreshed. Replace it, or unset YANDEX_TOKEN to use the stored login.');
    }
    return { token: ctx.settings.token, source: 'environment' };
  }
  const usable = options.force
    ? await forceRefresh(ctx.store, ctx.api, profile, ctx.now)
    : await getValidToken(ctx.store, ctx.api, profile, ctx.now);
  if (usable.warning) ctx.err.warn(usable.warning);
  return { token: usable.record.accessToken, record: usable.record, source: 'config' };
}

/** The stored profiles' names, "default" first, then alphabetically. */
export function profileNames(data: ConfigData): string[] {
  return Object.keys(data.profiles).sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}
