// What a stored login is (TokenRecord) and the rules read off one: when it expires, when it is due for
// renewal, what a token answer makes of it. Pure: no I/O.
import { loginAgain, ofProfile, profileFlag } from '../messages.js';
import { formatExpiry, formatInstant } from '../time.js';

/**
 * What an access or refresh token may be wherever it enters (Yandex's answer) or leaves (print, getToken):
 * 1 to 4096 printable ASCII characters, no spaces. It goes into HTTP headers and shell words as it is, so a
 * newline or an escape sequence in one would inject a header or reach a terminal. Yandex's are about 60.
 */
export const TOKEN_PATTERN = /^[\x21-\x7e]{1,4096}$/;

/**
 * What a Yandex Cloud IAM token may be where it enters (Cloud's answer, the cache in the file) or leaves
 * (print --iam, exec --iam): printable ASCII without spaces, as for TOKEN_PATTERN. Cloud's are a few
 * hundred characters starting `t1.`; its docs warn that the format may change, so only this is checked.
 */
export const IAM_TOKEN_PATTERN = /^[\x21-\x7e]{1,8192}$/;

/** What login stores for one profile. Times are ISO 8601 strings so the file reads well. */
export interface TokenRecord {
  accessToken: string;
  refreshToken?: string;
  tokenType?: string;
  /** When the access token stops working, if Yandex said. */
  expiresAt?: string;
  /** Granted scopes, space-separated, when Yandex reported them or we asked for them. */
  scope?: string;
  clientId: string;
  /** Kept so that refresh and revoke work without asking again. */
  clientSecret?: string;
  /** The Yandex account's login, when /info answered. */
  login?: string;
  /** When the token was obtained or last renewed (ISO 8601): renewals are due counted from here. */
  obtainedAt: string;
  /** When a renewal last failed; the next is tried an hour later. Cleared by a renewal. */
  renewalFailedAt?: string;
  /** That failure was Yandex refusing the refresh token (it no longer works): only a new login helps. */
  renewalRefused?: boolean;
  deviceId?: string;
  deviceName?: string;
  /** The OAuth base URL the token came from, when it was not Yandex's (an emulator): refresh and revoke go there. */
  oauthUrl?: string;
  /** The Yandex ID base URL (/info) of that login, when it was not Yandex's. */
  loginUrl?: string;
  /** Issued by `login --demo`'s built-in emulator, which stopped with it: no request is ever made for it. */
  demo?: boolean;
  /** Stored by `login --with-token`: a token got elsewhere (yc's app, say), replaced the same way. */
  imported?: boolean;
  /** When print or exec last warned that this token expires soon and will not be renewed (once a day at most). */
  expiryWarnedAt?: string;
}


const DAY_MS = 86_400_000;

/**
 * A token is renewed this long after it was obtained or last renewed, at the latest. Yandex: "The main
 * token may not get updated if the remaining lifetime is long enough… We recommend updating long-living
 * tokens every three months", and its refresh token dies with the access token (yandex-oauth.md §5, §13).
 */
const RENEW_AFTER_MS = 90 * DAY_MS;

/** Or once this share of its known lifetime has passed, if that comes first (short-lived tokens). */
const RENEW_AT_SHARE = 0.75;

/** A renewal that failed while the token still works is tried again only after this long (per profile). */
const RENEW_RETRY_MS = 3_600_000;

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

/** print and exec warn this long before a token that will not be renewed expires… */
export const EXPIRY_WARNING_WITHIN_MS = 14 * DAY_MS;

/** …and then at most once in this long per profile. */
export const EXPIRY_WARNING_EVERY_MS = DAY_MS;

/**
 * Why the token will not be renewed before it expires, or undefined when the first print (or exec, or
 * getToken) after it is due renews it, which by renewalDueAt is always before it expires. A renewal that
 * failed counts: nothing says the next attempt will do better.
 */
export function whyNotRenewed(record: TokenRecord): string | undefined {
  if (record.demo) return 'demo tokens cannot be renewed';
  if (!record.refreshToken) return 'no refresh token is stored';
  if (!record.clientSecret) return 'no client secret is stored';
  if (record.renewalRefused) return 'Yandex refused to renew it';
  if (record.renewalFailedAt) return 'its last renewal failed';
  // Only a record whose obtainedAt comes after its expiry (a clock set back, a hand edit) gets here.
  const expires = record.expiresAt ? Date.parse(record.expiresAt) : Number.NaN;
  if (Number.isFinite(expires) && renewalDueAt(record) >= expires) return 'it is not due for renewal before then';
  return undefined;
}

/**
 * Whether the daily warning is due (print, exec, api, --iam, and the Node API given onWarning): the token
 * expires within EXPIRY_WARNING_WITHIN_MS and will not be renewed, and was not warned of in the last day. The fast entry asks this on every print, so the usual
 * answer (far from expiry) costs one Date.parse.
 */
export function expiryWarningDue(record: TokenRecord, now: Date): boolean {
  const left = msUntilExpiry(record, now);
  if (left === undefined || left <= 0 || left > EXPIRY_WARNING_WITHIN_MS) return false;
  // A time in the future (a clock set back) does not silence the warning for longer than a day.
  const warned = record.expiryWarnedAt ? Date.parse(record.expiryWarnedAt) : Number.NaN;
  if (warned <= now.getTime() && now.getTime() - warned < EXPIRY_WARNING_EVERY_MS) return false;
  return whyNotRenewed(record) !== undefined;
}

/** The sentence for a token that expires soon and will not be renewed: when, why, and what to do before then. */
export function expiresSoonMessage(record: TokenRecord, profile: string, now: Date): string {
  const when = record.expiresAt ? formatExpiry(record.expiresAt, now) : 'soon';
  if (record.demo) {
    const flag = profile === 'demo' ? '' : ` --profile ${profile}`;
    return `The demo token${ofProfile(profile)} expires ${when}, and demo tokens cannot be renewed. Run \`yandex-token login --demo${flag}\` again before then.`;
  }
  return `The token${ofProfile(profile)} expires ${when} and will not be renewed (${whyNotRenewed(record) ?? 'it cannot be'}). ${loginAgain(profile, record).replace(/\.$/, '')} before then.`;
}

export interface UsableToken {
  record: TokenRecord;
  /** Whether this call renewed it (false when it was not due, or another process had just renewed it). */
  refreshed: boolean;
  /** Set when the token still works but a renewal failed (now, or less than an hour ago). */
  warning?: string;
}

/** " until 2027-03-01 10:00:00 UTC", or nothing when Yandex never said when the token expires. */
export function until(record: TokenRecord): string {
  return record.expiresAt ? ` until ${formatInstant(new Date(record.expiresAt))}` : '';
}

/** The warning for a due token whose renewal failed less than an hour ago: said on every use until the retry. */
export function heldOffWarning(record: TokenRecord, profile: string, retryAt: number): string {
  if (record.renewalRefused) {
    return `Yandex refused to renew the token${ofProfile(profile)}: its refresh token no longer works. The token still works${until(record)}. ${loginAgain(profile, record).replace(/\.$/, '')} before then.`;
  }
  return `The token${ofProfile(profile)} is due for renewal, but the last attempt failed; the next is after ${formatInstant(new Date(retryAt))}. It still works${until(record)}; \`yandex-token refresh${profileFlag(profile)}\` tries now and says why.`;
}

/**
 * When an expired token's failed renewal may be tried again: only a failure after the expiry holds the
 * one attempt an expired token gets (a failure just before it says nothing about the refresh token now).
 */
export function expiredRetryAt(record: TokenRecord, now: Date): number | undefined {
  const retryAt = renewalRetryAt(record, now);
  const expires = record.expiresAt ? Date.parse(record.expiresAt) : Number.NaN;
  return retryAt !== undefined && Date.parse(record.renewalFailedAt!) >= expires ? retryAt : undefined;
}

/**
 * The profile's entry in a table read from the file (profiles, pending logins): its own entry only, so that
 * a profile named "constructor" or "__proto__" is just a name.
 */
export function forProfile<T>(table: Record<string, T>, profile: string): T | undefined {
  return Object.hasOwn(table, profile) ? table[profile] : undefined;
}

/**
 * What the file says of the profile's renewal, as another run may just have left it: a token that is not
 * due (renewed) or whose renewal failed within the hour (a warning) needs no renewal now; undefined when
 * it does (or has expired, or is gone).
 */
export function settledRenewal(data: { profiles: Record<string, TokenRecord> }, profile: string, now: Date): UsableToken | undefined {
  const record = forProfile(data.profiles, profile);
  if (!record || isExpired(record, now)) return undefined;
  if (!isDue(record, now)) return { record, refreshed: false };
  const retryAt = renewalRetryAt(record, now);
  return retryAt === undefined ? undefined : { record, refreshed: false, warning: heldOffWarning(record, profile, retryAt) };
}

/**
 * Yandex's token response (https://yandex.ru/dev/id/doc/en/codes/code-url), as yandex/oauth.ts returns it
 * once checked: declared here, where records are made of it, so that this file imports nothing of the protocol.
 */
export interface TokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
}

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
  /** A token given to `login --with-token`. */
  imported?: boolean;
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
    imported: source.imported || undefined,
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
    renewalFailedAt: undefined,
    renewalRefused: undefined,
    expiryWarnedAt: undefined,
  });
}


export const HEADER_SCHEMES = ['oauth', 'bearer'] as const;
export type HeaderScheme = (typeof HEADER_SCHEMES)[number];

/** How print writes a token: alone (the default), as an Authorization header, or as JSON. */
export interface PrintFormat {
  /** One JSON object: token, expiresAt, login, scope, profile, source. */
  json?: boolean;
  /** `Authorization: OAuth <token>` (Disk, Metrica, most APIs) or `Authorization: Bearer <token>` (Direct). */
  header?: HeaderScheme;
}

/** What `print --json` writes. Fields Yandex never told us are null. */
export interface PrintedToken {
  token: string;
  expiresAt: string | null;
  login: string | null;
  scope: string | null;
  profile: string | null;
  source: 'config' | 'environment';
}


/** What print --json says of a token (from `record`, or from YANDEX_TOKEN when there is none). */
export function printedToken(token: string, record: TokenRecord | undefined, profile: string): PrintedToken {
  return {
    token,
    expiresAt: record?.expiresAt ?? null,
    login: record?.login ?? null,
    scope: record?.scope ?? null,
    profile: record ? profile : null,
    source: record ? 'config' : 'environment',
  };
}

/** What print writes for a token (from `record`, or from YANDEX_TOKEN when there is none), newline included. */
export function formatToken(token: string, record: TokenRecord | undefined, profile: string, format: PrintFormat): string {
  if (format.json) return `${JSON.stringify(printedToken(token, record, profile), null, 2)}\n`;
  if (format.header) return `Authorization: ${format.header === 'bearer' ? 'Bearer' : 'OAuth'} ${token}\n`;
  return `${token}\n`;
}
