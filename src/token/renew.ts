// Renewing a stored token under the config file's lock (print when it is due, `refresh`, the Node API's
// getToken). Loaded only for a renewal.
import { ConfigError, NotLoggedInError, OAuthError, UserError, stoppedAfter, isInterruption } from '../errors.js';
import { shielded } from '../shield.js';
import { demoCannotRefresh, loginAgain, notLoggedIn, ofProfile, profileFlag } from '../messages.js';
import type { ConfigData } from '../store/read.js';
import type { Store } from '../store/store.js';
import type { YandexApi } from '../yandex/oauth.js';
import { expiredRetryAt, forProfile, isExpired, until, recordAfterRefresh, settledRenewal, type TokenRecord, type TokenResponse, type UsableToken } from './record.js';
import { apiForRecord } from './server.js';

/** What Yandex said when it refused, as "code: description", or undefined when the failure was not a refusal. */
function refusal(error: unknown): string | undefined {
  const cause = error instanceof NotLoggedInError ? error.cause : undefined;
  return cause instanceof OAuthError ? `${cause.code}${cause.description ? `: ${cause.description}` : ''}` : undefined;
}

/**
 * The error for a renewal that failed and cannot be shrugged off: the token has expired, or `refresh` was
 * asked for. A refusal means the refresh token is dead (Yandex ends it with the access token): only a new
 * login helps. An expired token is unusable whatever the reason (exit 4).
 */
function renewalFailed(error: UserError, profile: string, expired: boolean): UserError {
  const said = refusal(error);
  const cause = error instanceof NotLoggedInError ? error.cause : undefined;
  if (expired) {
    // Refused: the refresh token is dead, only a login helps. Not asked (the network, a proxy, a bad
    // answer): once that is fixed a renewal may still work, so both ways out are named.
    const message = said
      ? `The token${ofProfile(profile)} has expired, and Yandex refused to renew it (${said}). ${loginAgain(profile)}`
      : `The token${ofProfile(profile)} has expired, and renewing it failed: ${error.message.replace(/[^.]$/, '$&.')} Once that is fixed, \`yandex-token refresh${profileFlag(profile)}\` may still renew it; otherwise run \`yandex-token login${profileFlag(profile)}\` again.`;
    return new NotLoggedInError(message, { cause: cause ?? error });
  }
  if (said) return new NotLoggedInError(`Yandex refused to refresh the token${ofProfile(profile)} (${said}). ${loginAgain(profile)}`, { cause });
  return error;
}

/** The one line for a renewal that failed while the token still works. */
function renewalWarning(error: UserError, current: TokenRecord, profile: string, noted = true): string {
  const said = refusal(error);
  // Not noted in the file (it could not be written): the next print looks again, without asking Yandex.
  if (!noted) return `Could not renew the token${ofProfile(profile)}, which still works${until(current)}: ${error.message}`;
  if (said) {
    return `Yandex refused to renew the token${ofProfile(profile)} (${said}). It still works${until(current)}; run \`yandex-token login${profileFlag(profile)}\` again before then.`;
  }
  return `Could not renew the token${ofProfile(profile)}, which still works${until(current)}; the next attempt is in an hour. ${error.message}`;
}

/**
 * Renews the profile's token under the config file's lock. Inside the lock the record is read again:
 * unless `force`, a token that another process renewed meanwhile (or failed to renew less than an hour
 * ago) is returned as it is, so that many processes on one due token make one request between them
 * (Yandex rotates refresh tokens, and a second refresh with the old one would fail). A failure leaves the
 * tokens as they were; unless `force`, it is noted in the record (renewalFailedAt) so that the next attempt
 * waits an hour, and a token that still works is returned with a warning instead of failing.
 */
export async function refreshRecord(
  store: Store,
  api: YandexApi,
  profile: string,
  now: () => Date,
  options: { force?: boolean } = {},
): Promise<UsableToken> {
  const oauth = await import('../yandex/oauth.js');
  const settled = (data: ConfigData) => (options.force ? undefined : settledRenewal(data, profile, now()));
  /** Yandex's answer once it has come: if storing it fails, it is not simply lost (see below). */
  let answered: TokenRecord | undefined;
  const renewing = store.update(async (data): Promise<UsableToken | { failed: UserError }> => {
    const current = forProfile(data.profiles, profile);
    if (!current) throw notLoggedIn(profile);
    const expired = isExpired(current, now());
    const done = settled(data);
    if (done) return done;
    if (!options.force && expiredRetryAt(current, now()) !== undefined) throw expiredHeldOff(profile);
    if (current.demo) throw demoCannotRefresh(profile);
    if (!current.refreshToken) {
      throw new NotLoggedInError(
        expired
          ? `The token${ofProfile(profile)} has expired and no refresh token is stored to renew it. ${loginAgain(profile, current)}`
          : `No refresh token is stored${ofProfile(profile)}, so the token cannot be refreshed. ${loginAgain(profile, current)}`,
      );
    }
    if (!current.clientSecret) {
      throw new NotLoggedInError(
        `No client secret is stored${ofProfile(profile)}, and refreshing the token needs it. Run \`yandex-token login${profileFlag(profile)}\` again with the app's client secret.`,
      );
    }
    // The answer will carry a new refresh token that must be stored: with no room for the file, not asked.
    try {
      store.assertRoom();
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      if (options.force || expired) return { failed: renewalFailed(error, profile, expired) };
      return { record: current, refreshed: false, warning: renewalWarning(error, current, profile, false) };
    }
    let token: TokenResponse;
    try {
      token = await oauth.refreshToken({ ...apiForRecord(api, current), signal: afterGrace(api.signal) }, {
        clientId: current.clientId,
        clientSecret: current.clientSecret,
        refreshToken: current.refreshToken,
      });
    } catch (error) {
      // Ctrl-C and the like are not a failed attempt; neither is a bug.
      if (!(error instanceof UserError) || isInterruption(error)) throw error;
      if (api.signal?.aborted) throw api.signal.reason;
      if (options.force) throw renewalFailed(error, profile, expired);
      // Noted in the file (returned, not thrown, so that update() writes it): the next attempt waits an hour.
      const noted: TokenRecord = { ...current, renewalFailedAt: now().toISOString(), renewalRefused: refusal(error) ? true : undefined };
      data.profiles[profile] = noted;
      if (!expired) return { record: noted, refreshed: false, warning: renewalWarning(error, current, profile) };
      return { failed: renewalFailed(error, profile, expired) };
    }
    const record = (answered = recordAfterRefresh(current, token, now()));
    data.profiles[profile] = record;
    return { record, refreshed: true };
  }, settled);
  let outcome: UsableToken | { failed: UserError };
  try {
    outcome = await shielded(() => renewing);
  } catch (error) {
    if (!answered || !(error instanceof UserError)) throw error;
    // Yandex renewed it (and rotated the refresh token), but the file could not take the answer.
    const lost = `Yandex renewed the token${ofProfile(profile)}, but it could not be stored: ${error.message.replace(/[^.]$/, '$&.')} The stored refresh token may no longer work: once that is fixed, run \`yandex-token refresh${profileFlag(profile)}\`; if Yandex refuses it, run \`yandex-token login${profileFlag(profile)}\` again.`;
    if (options.force) throw new ConfigError(lost);
    // print still hands out the new access token: it works, stored or not.
    return { record: answered, refreshed: true, warning: lost };
  }
  if ('failed' in outcome) throw outcome.failed;
  // Ctrl-C or SIGTERM while Yandex was answering: the answer was stored all the same, then the run stops.
  if (outcome.refreshed && api.signal?.aborted) throw stoppedAfter(api.signal.reason, 'The renewed token was stored first: Yandex had already answered.');
  return outcome;
}

/**
 * How long a refresh request already sent may still answer after Ctrl-C or SIGTERM. Yandex rotates the
 * refresh token as it answers, so an answer dropped on the floor may cost the stored refresh token; the
 * answer is stored, and the command then ends with the signal's exit code.
 */
const REFRESH_GRACE_MS = 2_000;

/** The caller's signal, aborted REFRESH_GRACE_MS after the caller's, with its reason. */
function afterGrace(signal: AbortSignal | undefined): AbortSignal | undefined {
  if (!signal) return undefined;
  const delayed = new AbortController();
  const abort = () => setTimeout(() => delayed.abort(signal.reason), REFRESH_GRACE_MS).unref();
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  return delayed.signal;
}

/** An expired token whose renewal failed after its expiry, less than an hour ago: not asked again yet. */
export function expiredHeldOff(profile: string): NotLoggedInError {
  return new NotLoggedInError(
    `The token${ofProfile(profile)} has expired, and renewing it failed less than an hour ago. ${loginAgain(profile)} (\`yandex-token refresh${profileFlag(profile)}\` tries again now.)`,
  );
}

/** A refresh now, whatever the expiry (`yandex-token refresh`). */
export function forceRefresh(store: Store, api: YandexApi, profile: string, now: () => Date): Promise<UsableToken> {
  if (!store.get(profile)) throw notLoggedIn(profile);
  return refreshRecord(store, api, profile, now, { force: true });
}
