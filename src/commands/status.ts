// `yandex-token status`: what is stored per profile, and whether Yandex still accepts each token (/info).
import type { Context } from '../context.js';
import { apiForRecord } from '../token/server.js';
import { canRenew, expiresSoonMessage, forProfile, isExpired, msUntilExpiry, renewalDueAt, renewalRetryAt, whyNotRenewed } from '../token/record.js';
import { demoProfileFlag, loginAgain, notLoggedIn, ofProfile, pollCommand, startCommand } from '../messages.js';
import { ExitCode, ExpiresSoonError, NotLoggedInError, OAuthError, UserError, untrusted, isInterruption } from '../errors.js';
import { fetchAccountInfo, type AccountInfo } from '../yandex/oauth.js';
import { nonDefaultEndpoints } from '../token/server.js';
import type { PendingDeviceLogin } from '../store/read.js';
import type { TokenRecord } from '../token/record.js';
import { formatExpiry, formatInstant } from '../time.js';
import { sortProfiles } from '../store/read.js';
import { settingsJson, settingsLine, type SettingsJson } from '../services.js';
import { profileSettings } from '../token/for-service.js';

export interface StatusOptions {
  /** One profile; undefined shows every stored profile. */
  profile?: string;
  json?: boolean;
  /** `--expires-within`: a token that expires within this many milliseconds and will not be renewed first is exit 5. */
  expiresWithinMs?: number;
}

/**
 * valid: Yandex accepted the token just now. expired: past its expiry here (not checked online).
 * rejected: Yandex answered 401. unreachable: the check itself failed. not-logged-in: nothing stored.
 * demo: a `login --demo` token, unexpired; not a Yandex token, and not checked (its emulator has stopped).
 */
export type TokenState = 'valid' | 'expired' | 'rejected' | 'unreachable' | 'not-logged-in' | 'demo';

/** One entry of `status --json`. Unknown fields are null. */
export interface StatusEntry {
  profile: string | null;
  source: 'config' | 'environment';
  state: TokenState;
  login: string | null;
  clientId: string | null;
  expiresAt: string | null;
  /** Seconds from now; negative once expired. */
  expiresInSeconds: number | null;
  scope: string | null;
  /** The token has not expired, and a refresh token and client secret are stored, so print can renew it. */
  refreshable: boolean;
  /**
   * When print next renews the token (ISO 8601; in the past: the next print does), or null when it cannot
   * be renewed: 90 days after it was obtained or last renewed, or at three quarters of its lifetime.
   */
  renewAt: string | null;
  /** When a renewal ahead of expiry last failed (ISO 8601; print tries again an hour later), else null. */
  renewalFailedAt: string | null;
  /** That failure was Yandex refusing the refresh token: the token works until it expires, then a login is needed. */
  renewalRefused: boolean;
  /** A `login --demo` token (from the built-in emulator, not Yandex): never checked online, never renewed. */
  demo: boolean;
  /** When the token cannot be used as it is: what happened and what to do. */
  message: string | null;
  /** A `login --device --no-wait` waiting for `--poll` in this profile (never its device code), else null. */
  pendingDeviceLogin: PendingStatus | null;
  /**
   * The server this token belongs to when it is not Yandex (an emulator: kept in the record, or named by
   * YANDEX_OAUTH_URL), else null. The states and messages say "Yandex" for whichever server answers.
   */
  server: string | null;
  /** What `profile set` keeps for the services (null when not set); null for YANDEX_TOKEN's entry. */
  settings: SettingsJson | null;
  /**
   * Only with `--expires-within`: the token expires within that time (or has expired) and print will not
   * renew it before then (whyNotRenewed). False when the expiry is unknown (YANDEX_TOKEN, or Yandex never said).
   */
  expiresSoon?: boolean;
}

/** What status shows of a pending two-step device login: what the person must do, and by when. */
export interface PendingStatus {
  userCode: string;
  verificationUrl: string;
  /** ISO 8601: when the code stops working. */
  expiresAt: string;
  /** Seconds from now; negative once the code has expired. */
  expiresInSeconds: number;
}

export interface StatusReport {
  configFile: string;
  profiles: StatusEntry[];
}

type Check = { state: 'valid'; info: AccountInfo } | { state: 'rejected' } | { state: 'unreachable'; message: string };

async function checkOnline(ctx: Context, token: string, record?: TokenRecord): Promise<Check> {
  try {
    return { state: 'valid', info: await fetchAccountInfo(record ? apiForRecord(ctx.api, record) : ctx.api, token) };
  } catch (error) {
    if (isInterruption(error)) throw error;
    if (error instanceof OAuthError && error.code === 'invalid_token') return { state: 'rejected' };
    if (error instanceof UserError) return { state: 'unreachable', message: error.message };
    throw error;
  }
}

function exitCodeOf(entry: StatusEntry): number {
  switch (entry.state) {
    case 'valid':
    case 'demo':
      return ExitCode.ok;
    case 'unreachable':
      return ExitCode.failure;
    default:
      return ExitCode.notLoggedIn;
  }
}

function pendingStatus(ctx: Context, pending: PendingDeviceLogin | undefined): PendingStatus | null {
  if (!pending) return null;
  const left = Date.parse(pending.expiresAt) - ctx.now().getTime();
  return {
    userCode: pending.userCode,
    verificationUrl: pending.verificationUrl,
    expiresAt: pending.expiresAt,
    expiresInSeconds: Number.isNaN(left) ? 0 : Math.round(left / 1000),
  };
}

/** Whether the record's token expires within `windowMs` (or has expired) with nothing to renew it first. */
function expiresSoon(record: TokenRecord | undefined, now: Date, windowMs: number): boolean {
  const left = record ? msUntilExpiry(record, now) : undefined;
  if (!record || left === undefined || left > windowMs) return false;
  return left <= 0 || whyNotRenewed(record) !== undefined;
}

async function profileEntry(ctx: Context, options: StatusOptions, profile: string, record: TokenRecord | undefined, pending?: PendingDeviceLogin): Promise<StatusEntry> {
  const entry: StatusEntry = {
    ...(await checkedEntry(ctx, profile, record, pending)),
    settings: settingsJson(profileSettings(ctx, profile)),
  };
  if (options.expiresWithinMs === undefined) return entry;
  const soon = expiresSoon(record, ctx.now(), options.expiresWithinMs);
  return { ...entry, expiresSoon: soon, message: entry.message ?? (soon && record ? expiresSoonMessage(record, profile, ctx.now()) : null) };
}

async function checkedEntry(ctx: Context, profile: string, record: TokenRecord | undefined, pending?: PendingDeviceLogin): Promise<StatusEntry> {
  const entry: StatusEntry = {
    profile,
    source: 'config',
    state: 'not-logged-in',
    login: record?.login ?? null,
    // Empty for a `login --with-token` token whose /info answer named no app.
    clientId: record?.clientId || null,
    expiresAt: record?.expiresAt ?? null,
    expiresInSeconds: null,
    scope: record?.scope ?? null,
    refreshable: Boolean(record && canRenew(record) && !isExpired(record, ctx.now()) && !record.renewalRefused),
    renewAt: null,
    renewalFailedAt: record?.renewalFailedAt ?? null,
    renewalRefused: Boolean(record?.renewalRefused),
    demo: Boolean(record?.demo),
    message: null,
    pendingDeviceLogin: pendingStatus(ctx, pending),
    // A demo token is never sent anywhere, so YANDEX_OAUTH_URL does not make it another server's: its own
    // is the (stopped) emulator that issued it.
    server: record?.demo ? (record.oauthUrl ?? null) : (nonDefaultEndpoints(record ? apiForRecord(ctx.api, record) : ctx.api).oauthUrl ?? null),
    settings: null,
  };
  if (!record && entry.pendingDeviceLogin && entry.pendingDeviceLogin.expiresInSeconds > 0) {
    const poll = pollCommand(profile);
    return { ...entry, message: `Not logged in${ofProfile(profile)} yet: a device login is pending; enter its code, then run \`${poll}\`.` };
  }
  if (!record) return { ...entry, message: notLoggedIn(profile).message };
  const left = msUntilExpiry(record, ctx.now());
  entry.expiresInSeconds = left === undefined ? null : Math.round(left / 1000);
  if (isExpired(record, ctx.now())) {
    // Not asked online: Yandex would only say 401. Nor called renewable: Yandex ends the refresh token with
    // the access token (yandex-oauth.md §13), so a new login is what works.
    entry.state = 'expired';
    entry.message = record.demo
      ? `The demo token${ofProfile(profile)} has expired, and demo tokens cannot be renewed. Run \`yandex-token login --demo${demoProfileFlag(profile)}\` again.`
      : `The token${ofProfile(profile)} has expired. ${loginAgain(profile, record)}`;
    return entry;
  }
  if (entry.refreshable) entry.renewAt = new Date(Math.max(renewalDueAt(record), 0)).toISOString();
  if (record.demo) {
    // Nothing to ask: the emulator that issued it stopped with `login --demo`, and Yandex never knew it.
    entry.state = 'demo';
    entry.message = 'A demo token from `yandex-token login --demo`: not a real Yandex token. The built-in emulator that issued it has stopped, and no Yandex API accepts it.';
    return entry;
  }
  const check = await checkOnline(ctx, record.accessToken, record);
  entry.state = check.state;
  if (check.state === 'valid') entry.login ??= check.info.login ?? null;
  if (check.state === 'rejected') {
    entry.message = `Yandex rejected the token${ofProfile(profile)}: it was revoked (in Yandex ID, by a password change, or by newer logins of the app). ${loginAgain(profile, record)}`;
  }
  if (check.state === 'unreachable') entry.message = check.message;
  if (check.state === 'valid' && record.renewalRefused) {
    const until = record.expiresAt ? ` until ${formatInstant(new Date(record.expiresAt))}` : '';
    entry.message = `Yandex refused to renew the token${ofProfile(profile)}: it works${until}, and cannot be renewed. ${loginAgain(profile, record).replace(/\.$/, '')} before then.`;
  }
  return entry;
}

async function environmentEntry(ctx: Context, options: StatusOptions, token: string): Promise<StatusEntry> {
  const check = await checkOnline(ctx, token);
  return {
    // Yandex's /info does not say when a token expires, so one from the environment has no known expiry.
    ...(options.expiresWithinMs === undefined ? {} : { expiresSoon: false }),
    profile: null,
    source: 'environment',
    state: check.state,
    login: check.state === 'valid' ? (check.info.login ?? null) : null,
    clientId: check.state === 'valid' ? (check.info.client_id ?? null) : null,
    expiresAt: null,
    expiresInSeconds: null,
    scope: null,
    refreshable: false,
    renewAt: null,
    renewalFailedAt: null,
    renewalRefused: false,
    pendingDeviceLogin: null,
    server: nonDefaultEndpoints(ctx.api).oauthUrl ?? null,
    settings: null,
    demo: false,
    message:
      check.state === 'rejected'
        ? 'Yandex rejected the token in YANDEX_TOKEN. Replace it, or unset YANDEX_TOKEN to use the stored login.'
        : check.state === 'unreachable'
          ? check.message
          : null,
  };
}

function describeState(entry: StatusEntry): string {
  switch (entry.state) {
    case 'valid':
      return 'valid (Yandex accepted it just now)';
    case 'expired':
      return 'expired';
    case 'rejected':
      return 'rejected by Yandex';
    case 'unreachable':
      return 'not checked: Yandex could not be reached';
    case 'not-logged-in':
      return 'not logged in';
    case 'demo':
      return 'demo token from `login --demo`, not a real Yandex token (not checked: its emulator has stopped)';
  }
}

function printEntry(ctx: Context, entry: StatusEntry): void {
  const { err } = ctx;
  const title = entry.source === 'environment' ? 'Token from the environment (YANDEX_TOKEN)' : `Profile ${err.bold(entry.profile ?? '')}`;
  err.line(`${title}: ${describeState(entry)}`);
  if (entry.pendingDeviceLogin) printPending(ctx, entry.profile ?? 'default', entry.pendingDeviceLogin);
  const row = (label: string, value: string) => err.line(`  ${label.padEnd(10)} ${value}`);
  const settings = entry.settings ? settingsLine(entry.settings) : '';
  if (settings) row('Settings', settings);
  if (entry.state === 'not-logged-in') return;
  row('Account', entry.login ?? 'unknown');
  row('Client ID', entry.clientId ?? 'unknown');
  if (entry.server) row('Server', `${untrusted(entry.server)} (not Yandex)`);
  if (entry.source === 'environment') {
    row('Expires', `unknown: Yandex does not say when a token from YANDEX_TOKEN expires${entry.expiresSoon === undefined ? '' : ', so --expires-within cannot judge it'}`);
    row('Note', 'print prints this token; stored logins are not used while YANDEX_TOKEN is set');
    return;
  }
  row('Expires', entry.expiresAt ? formatExpiry(entry.expiresAt, ctx.now()) : 'unknown (Yandex did not say)');
  row('Scopes', entry.scope ?? "all the app's permissions");
  if (entry.state === 'demo') row('Note', 'print prints it until it expires; no Yandex API accepts it');
  row('Renewal', renewal(entry, ctx.now()));
  if (entry.expiresSoon) row('Warning', 'expires within --expires-within and will not be renewed first: log in again');
}

/** The Renewal row: when print renews the token, or why it cannot. */
function renewal(entry: StatusEntry, now: Date): string {
  if (entry.demo) return 'not possible: demo tokens cannot be renewed';
  if (entry.state === 'expired') return 'too late: Yandex ends the refresh token with the token';
  if (entry.renewalRefused) return 'refused by Yandex (its refresh token no longer works): log in again before it expires';
  if (!entry.renewAt) return 'not possible: no refresh token or client secret is stored; log in again before it expires';
  const retryAt = renewalRetryAt({ renewalFailedAt: entry.renewalFailedAt ?? undefined }, now);
  if (retryAt !== undefined) return `due; the last attempt failed, the next is after ${formatInstant(new Date(retryAt))}`;
  if (Date.parse(entry.renewAt) <= now.getTime()) return 'due: the next print renews it';
  return `${formatExpiry(entry.renewAt, now)}, by the first print after that`;
}

/** The pending device login's line: the code and page come from the file, so they are cleaned first. */
function printPending(ctx: Context, profile: string, pending: PendingStatus): void {
  const code = untrusted(pending.userCode, 40);
  const url = untrusted(pending.verificationUrl);
  const expiresAt = new Date(pending.expiresAt);
  const when = Number.isNaN(expiresAt.getTime()) ? untrusted(pending.expiresAt, 40) : formatInstant(expiresAt);
  if (pending.expiresInSeconds > 0) {
    const poll = pollCommand(profile);
    ctx.err.line(`  a device login is pending: enter ${code} at ${url} before ${when}, then run \`${poll}\``);
  } else {
    const start = startCommand(profile);
    ctx.err.line(`  a device login is pending, but its code expired at ${when}; start again with \`${start}\``);
  }
}

/** The sentence to end on when something needs doing, with the exit code it carries. */
function failureFor(entries: StatusEntry[]): UserError | undefined {
  const unusable = entries.filter((e) => exitCodeOf(e) === ExitCode.notLoggedIn);
  if (unusable.length === 1) return new NotLoggedInError(unusable[0]!.message ?? 'The token cannot be used.');
  if (unusable.length > 1) {
    const names = unusable.map((e) => e.profile).join(', ');
    return new NotLoggedInError(`${unusable.length} profiles cannot be used (${names}). Run \`yandex-token login --profile <name>\` for each.`);
  }
  const unchecked = entries.find((e) => exitCodeOf(e) === ExitCode.failure);
  if (unchecked) return new UserError(unchecked.message ?? 'Could not check the token.');
  const soon = entries.filter((e) => e.expiresSoon);
  if (soon.length === 1) return new ExpiresSoonError(soon[0]!.message ?? 'The token expires soon and will not be renewed.');
  if (soon.length > 1) {
    const names = soon.map((e) => e.profile).join(', ');
    return new ExpiresSoonError(
      `${soon.length} profiles expire within --expires-within and will not be renewed (${names}). Run \`yandex-token login --profile <name>\` for each before then.`,
    );
  }
  return undefined;
}

export async function status(options: StatusOptions, ctx: Context): Promise<void> {
  let entries: StatusEntry[];
  if (ctx.settings.token) {
    entries = [await environmentEntry(ctx, options, ctx.settings.token)];
  } else {
    const { profiles, pending = {} } = ctx.store.read();
    // A profile with only a pending device login is listed too: it is one `--poll` away from a token.
    const stored = [...new Set([...Object.keys(profiles), ...Object.keys(pending)])];
    const names =
      options.profile !== undefined
        ? [options.profile]
        : sortProfiles(stored);
    entries = await Promise.all(
      names.map((name) =>
        profileEntry(ctx, options, name, forProfile(profiles, name), forProfile(pending, name)),
      ),
    );
  }
  const report: StatusReport = { configFile: ctx.store.path, profiles: entries };
  if (options.json) {
    ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const entry of entries) printEntry(ctx, entry);
    if (entries.length > 0) ctx.err.line(`Config file: ${ctx.store.path}`);
  }
  if (entries.length === 0) throw notLoggedIn('default');
  const failure = failureFor(entries);
  if (failure) throw failure;
}
