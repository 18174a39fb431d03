// Reading a usable token back: the one code path (print, refresh and the Node API's getToken) that decides
// when a stored token is to be refreshed. The refresh itself is in refresh.ts, loaded only then.
import type { Context } from './context.js';
import { CancelledError, NotLoggedInError, TerminatedError, UserError } from './errors.js';
import type { YandexApi } from './oauth.js';
import type { ConfigData, Store, TokenRecord } from './store.js';
import { formatInstant } from './time.js';

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

const DAY_MS = 86_400_000;

/**
 * A token is renewed this long after it was obtained or last renewed, at the latest. Yandex: "The main
 * token may not get updated if the remaining lifetime is long enough… We recommend updating long-living
 * tokens every three months", and its refresh token dies with the access token (yandex-oauth.md §5, §13).
 */
export const RENEW_AFTER_MS = 90 * DAY_MS;

/** Or once this share of its known lifetime has passed, if that comes first (short-lived tokens). */
export const RENEW_AT_SHARE = 0.75;

/** A renewal that failed while the token still works is tried again only after this long (per profile). */
export const RENEW_RETRY_MS = 3_600_000;

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

/** Whether a renewal can be asked for at all: a refresh token and the client secret are stored, and it is not a demo token. */
export function canRenew(record: TokenRecord): boolean {
  return Boolean(record.refreshToken && record.clientSecret && !record.demo);
}

/**
 * When the token is due for renewal (ms since the epoch): 90 days after it was obtained or last renewed,
 * or once three quarters of its known lifetime have passed, whichever comes first. A record whose
 * obtainedAt cannot be read is due now.
 */
export function renewalDueAt(record: TokenRecord): number {
  const obtained = Date.parse(record.obtainedAt);
  if (!Number.isFinite(obtained)) return 0;
  const expires = record.expiresAt ? Date.parse(record.expiresAt) : Number.NaN;
  const byShare = Number.isFinite(expires) ? obtained + (expires - obtained) * RENEW_AT_SHARE : Number.POSITIVE_INFINITY;
  return Math.min(obtained + RENEW_AFTER_MS, byShare);
}

/** Due for renewal, and renewable. */
export function isDue(record: TokenRecord, now: Date): boolean {
  return canRenew(record) && now.getTime() >= renewalDueAt(record);
}

/** When a failed renewal may be tried again, if the last attempt failed less than RENEW_RETRY_MS ago. */
export function renewalRetryAt(record: Pick<TokenRecord, 'renewalFailedAt'>, now: Date): number | undefined {
  if (!record.renewalFailedAt) return undefined;
  const failed = Date.parse(record.renewalFailedAt);
  // A time in the future (a clock set back, a hand edit) does not hold renewals off for longer than an hour.
  if (!Number.isFinite(failed) || failed > now.getTime()) return undefined;
  const retry = failed + RENEW_RETRY_MS;
  return retry > now.getTime() ? retry : undefined;
}

export interface UsableToken {
  record: TokenRecord;
  /** Whether this call renewed it (false when it was not due, or another process had just renewed it). */
  refreshed: boolean;
  /** Set when the token still works but a renewal failed (now, or less than an hour ago). */
  warning?: string;
}

/** The warning for a due token whose renewal failed less than an hour ago: said on every use until the retry. */
export function heldOffWarning(record: TokenRecord, profile: string, retryAt: number): string {
  const until = record.expiresAt ? ` It works until ${formatInstant(new Date(record.expiresAt))};` : '';
  return `The token${ofProfile(profile)} is due for renewal, but the last attempt failed; the next is after ${formatInstant(new Date(retryAt))}.${until} \`yandex-token refresh${profileFlag(profile)}\` tries now and says why.`;
}

/**
 * What the file says of the profile's renewal, as another run may just have left it: a token that is not
 * due (renewed) or whose renewal failed within the hour (a warning) needs no renewal now; undefined when
 * it does (or has expired, or is gone).
 */
export function settledRenewal(data: ConfigData, profile: string, now: Date): UsableToken | undefined {
  const record = Object.hasOwn(data.profiles, profile) ? data.profiles[profile] : undefined;
  if (!record || isExpired(record, now)) return undefined;
  if (!isDue(record, now)) return { record, refreshed: false };
  const retryAt = renewalRetryAt(record, now);
  return retryAt === undefined ? undefined : { record, refreshed: false, warning: heldOffWarning(record, profile, retryAt) };
}

/**
 * The profile's token, renewed first when it is due (or expired). The fast path (a token not due) only
 * reads the file; the lock, conf and the protocol are loaded only for a renewal. A renewal that fails while
 * the token still works returns the token with a warning, and is not tried again for an hour.
 */
export async function getValidToken(store: Store, api: YandexApi, profile: string, now: () => Date): Promise<UsableToken> {
  const data = store.read();
  const record = Object.hasOwn(data.profiles, profile) ? data.profiles[profile] : undefined;
  if (!record) throw notLoggedIn(profile);
  const expired = isExpired(record, now());
  if (!expired && !isDue(record, now())) return { record, refreshed: false };
  // Another run may be renewing it right now: its result, read from the file, saves loading a renewal's code.
  const settled = settledRenewal(data, profile, now()) ?? (await store.whileLocked((latest) => settledRenewal(latest, profile, now())));
  if (settled) return settled;
  try {
    const { refreshRecord } = await import('./refresh.js');
    return await refreshRecord(store, api, profile, now);
  } catch (error) {
    // What refreshRecord did not turn into a warning (the lock, the file): a token that still works is
    // handed out anyway, with the reason.
    const interrupted = error instanceof CancelledError || error instanceof TerminatedError;
    if (expired || !(error instanceof UserError) || interrupted) throw error;
    return { record, refreshed: false, warning: `Could not renew the token${ofProfile(profile)}, which still works: ${error.message}` };
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
