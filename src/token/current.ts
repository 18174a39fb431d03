// The token to hand out now (print, getToken, exec): YANDEX_TOKEN, or the profile's, renewed first when
// due. Reading costs one file read; the renewal's code (renew.ts) is loaded only when one is needed.
import { rmSync } from 'node:fs';
import type { Context } from '../context.js';
import { NotLoggedInError, UserError, isInterruption } from '../errors.js';
import { notLoggedIn, ofProfile } from '../messages.js';
import { renewalMarker } from '../store/read.js';
import type { Store } from '../store/store.js';
import type { YandexApi } from '../yandex/oauth.js';
import {
  TOKEN_PATTERN,
  expiredRetryAt,
  expiresSoonMessage,
  expiryWarningDue,
  forProfile,
  isDue,
  isExpired,
  settledRenewal,
  type TokenRecord,
  type UsableToken,
} from './record.js';

/** The stored record for a profile, or NotLoggedInError. */
export function requireRecord(store: Store, profile: string): TokenRecord {
  const record = store.get(profile);
  if (!record) throw notLoggedIn(profile);
  return record;
}

/**
 * The profile's token, renewed first when it is due (or expired). The fast path (a token not due) only
 * reads the file; the lock, conf and the protocol are loaded only for a renewal. A renewal that fails while
 * the token still works returns the token with a warning, and is not tried again for an hour.
 */
async function getValidToken(store: Store, api: YandexApi, profile: string, now: () => Date): Promise<UsableToken> {
  const data = store.read();
  const record = forProfile(data.profiles, profile);
  if (!record) throw notLoggedIn(profile);
  const at = now();
  const expired = isExpired(record, at);
  if (!expired && !isDue(record, at)) return { record, refreshed: false };
  try {
    const renew = await import('./renew.js');
    if (expired && expiredRetryAt(record, at) !== undefined) throw renew.expiredHeldOff(profile);
    // Settled by a run before this one (renewed, or failed within the hour); one that is renewing it now is
    // waited for under the lock (refreshRecord).
    return settledRenewal(data, profile, at) ?? (await renew.refreshRecord(store, api, profile, now));
  } catch (error) {
    // What refreshRecord did not turn into a warning (the lock, the file): a token that still works is
    // handed out anyway, with the reason.
    if (expired || !(error instanceof UserError) || isInterruption(error)) throw error;
    return { record, refreshed: false, warning: `Could not renew the token${ofProfile(profile)}, which still works: ${error.message}` };
  } finally {
    // The fast entry's hint that a print renews this token (store/read.ts renewalMarker): done now. A folder
    // that cannot hold one (the run's error says why) never had one.
    try {
      rmSync(renewalMarker(store.path), { force: true });
    } catch {
      // Nothing to remove.
    }
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
 * The token to use now, for `print`, `exec` and getToken alike: YANDEX_TOKEN when set (as GH_TOKEN does for
 * gh: the environment wins and nothing is read), else the profile's, refreshed first when due (or always,
 * with `force`). A warning (a refresh ahead of expiry failed, the token still works) goes to ctx.err; with
 * ctx.expiryWarnings, so does the daily one for a token that expires soon and will not be renewed.
 */
export async function currentToken(
  ctx: Pick<Context, 'settings' | 'store' | 'api' | 'now' | 'err' | 'expiryWarnings'>,
  profile: string,
  options: { force?: boolean } = {},
): Promise<CurrentToken> {
  if (ctx.settings.token) {
    if (options.force) {
      throw new NotLoggedInError('The token comes from YANDEX_TOKEN, which cannot be refreshed. Replace it, or unset YANDEX_TOKEN to use the stored login.');
    }
    const current: CurrentToken = { token: ctx.settings.token, source: 'environment' };
    return { ...current, token: printableToken(current, ctx.store, profile) };
  }
  const usable = options.force
    ? await (await import('./renew.js')).forceRefresh(ctx.store, ctx.api, profile, ctx.now)
    : await getValidToken(ctx.store, ctx.api, profile, ctx.now);
  if (usable.warning) ctx.err.warn(usable.warning);
  // A renewal's warning already says what to do; the daily one would only repeat it.
  else if (ctx.expiryWarnings) await warnOfExpiry(ctx, profile, usable.record);
  const current: CurrentToken = { token: usable.record.accessToken, record: usable.record, source: 'config' };
  return { ...current, token: printableToken(current, ctx.store, profile) };
}

/**
 * print, exec, api, --iam and the Node API given onWarning: one line a day per profile while a token that will not be renewed has less than
 * EXPIRY_WARNING_WITHIN_MS left. When it was said is noted in the record under the lock, so that of many
 * runs at once one says it; the fast entry hands print over only when the note is a day old
 * (expiryWarningDue). A note that cannot be written (a read-only folder) leaves the line said each time.
 */
async function warnOfExpiry(ctx: Pick<Context, 'store' | 'now' | 'err'>, profile: string, record: TokenRecord): Promise<void> {
  if (!expiryWarningDue(record, ctx.now())) return;
  let say = true;
  try {
    say = await ctx.store.update((data) => {
      const latest = forProfile(data.profiles, profile);
      // Another run said it meanwhile, or a login replaced the token: nothing to say about this one.
      if (!latest || latest.accessToken !== record.accessToken || !expiryWarningDue(latest, ctx.now())) return false;
      data.profiles[profile] = { ...latest, expiryWarnedAt: ctx.now().toISOString() };
      return true;
    });
  } catch (error) {
    if (!(error instanceof UserError) || isInterruption(error)) throw error;
  }
  if (say) ctx.err.warn(expiresSoonMessage(record, profile, ctx.now()));
}

/**
 * The token of `current`, refused unless it is fit for a header or a shell word (TOKEN_PATTERN): a
 * hand-edited record or a YANDEX_TOKEN with a newline, a space or an escape sequence would inject a header
 * into every recipe (`curl -H "$(yandex-token print --header)"`) or reach a terminal. print and getToken.
 */
function printableToken(current: CurrentToken, store: Pick<Store, 'checkedToken'>, profile: string): string {
  if (current.record) return store.checkedToken(current.token, profile);
  if (TOKEN_PATTERN.test(current.token)) return current.token;
  throw new UserError(
    'YANDEX_TOKEN is not a token (a token is 1 to 4096 printable ASCII characters without spaces), so it was not printed. Fix or unset it.',
  );
}

