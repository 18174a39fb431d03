// Reading a usable token back: the one code path (print, refresh and the Node API's getToken) that decides
// when a stored token is to be refreshed. The refresh itself is in refresh.ts, loaded only then.
import type { Context } from './context.js';
import { CancelledError, NotLoggedInError, TerminatedError, UserError } from './errors.js';
import type { YandexApi } from './oauth.js';
import type { ConfigData, Store, TokenRecord } from './store.js';

/** print refreshes a token that expires within this long, so that a script never gets one about to die. */
export const REFRESH_MARGIN_MS = 60_000;

/**
 * The endpoints for requests about a stored token (or a pending device login): the ones it was issued by
 * (an emulator's, kept in the record) unless the environment names others explicitly (YANDEX_OAUTH_URL /
 * YANDEX_LOGIN_URL win).
 */
export function apiForRecord(api: YandexApi, record: Pick<TokenRecord, 'oauthUrl' | 'loginUrl'>): YandexApi {
  const oauthUrl = api.oauthUrlFromEnv ? api.oauthUrl : (record.oauthUrl ?? api.oauthUrl);
  const loginUrl = api.loginUrlFromEnv ? api.loginUrl : (record.loginUrl ?? api.loginUrl);
  return oauthUrl === api.oauthUrl && loginUrl === api.loginUrl ? api : { ...api, oauthUrl, loginUrl };
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
    const { refreshRecord } = await import('./refresh.js');
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
    ? await (await import('./refresh.js')).forceRefresh(ctx.store, ctx.api, profile, ctx.now)
    : await getValidToken(ctx.store, ctx.api, profile, ctx.now);
  if (usable.warning) ctx.err.warn(usable.warning);
  return { token: usable.record.accessToken, record: usable.record, source: 'config' };
}

/** The stored profiles' names, "default" first, then alphabetically. */
export function profileNames(data: ConfigData): string[] {
  return Object.keys(data.profiles).sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}
