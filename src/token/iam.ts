// The Yandex Cloud IAM token to hand out now (print --iam, exec --iam, the Node API's getIamToken): got for
// the profile's OAuth token, cached per profile in the config file and reused until an hour after it was
// issued or ten minutes before it expires; a new one is got under the file's lock, once for any crowd.
import { createHash } from 'node:crypto';
import type { Context } from '../context.js';
import { NotLoggedInError, UserError, isInterruption } from '../errors.js';
import { notLoggedIn, ofProfile, profileFlag } from '../messages.js';
import type { ConfigData, IamCacheEntry } from '../store/read.js';
import { formatInstant } from '../time.js';
import { createIamToken, type IamToken } from '../yandex/iam.js';
import { currentToken, type CurrentToken } from './current.js';
import { forProfile } from './record.js';
import { iamUrlForRecord } from './server.js';

/** Yandex: "we recommend requesting it more often, such as once per hour" (…/operations/iam-token/create). */
export const IAM_REUSE_MS = 3_600_000;

/**
 * After Cloud could not be asked, a cached token that still works is handed out without asking again for
 * this long: while Cloud is down, a script calling print --iam in a loop does not wait out the HTTP timeout
 * every time.
 */
export const IAM_RETRY_MS = 5 * 60_000;

/** A cached IAM token is not handed out in its last ten minutes: a script may take a while to use it. */
export const IAM_MARGIN_MS = 10 * 60_000;

type IamContext = Pick<Context, 'settings' | 'store' | 'api' | 'now' | 'err' | 'expiryWarnings'>;

/**
 * What a cached IAM token was got for: the OAuth token, at that IAM server. A new login, or
 * YANDEX_IAM_URL pointed at another server (an emulator and back), never hands out the other's.
 */
function hashOf(oauthToken: string, iamUrl: string): string {
  return createHash('sha256').update(`${iamUrl}\n${oauthToken}`).digest('hex');
}

/** The profile's cached IAM token, if it was got for this OAuth token. */
function cachedFor(data: ConfigData, profile: string, oauthHash: string): IamCacheEntry | undefined {
  const entry = data.iam && forProfile(data.iam, profile);
  return entry?.oauthTokenHash === oauthHash ? entry : undefined;
}

/** Whether the entry may be handed out without asking Cloud: less than an hour old, ten minutes of life left. */
function reusable(entry: IamCacheEntry | undefined, now: Date): entry is IamCacheEntry {
  if (!entry) return false;
  const issued = Date.parse(entry.issuedAt);
  // Issued "in the future" (a clock set back): not trusted to be recent.
  if (issued > now.getTime()) return false;
  return now.getTime() < Math.min(issued + IAM_REUSE_MS, Date.parse(entry.expiresAt) - IAM_MARGIN_MS);
}

/** Whether the entry still works for ten minutes or more: handed out, with a warning, when Cloud cannot be asked. */
function stillWorks(entry: IamCacheEntry | undefined, now: Date): entry is IamCacheEntry {
  return entry !== undefined && now.getTime() < Date.parse(entry.expiresAt) - IAM_MARGIN_MS;
}

/**
 * A still-working entry whose replacement failed less than IAM_RETRY_MS ago, with the warning it is handed
 * out with; undefined when Cloud is to be asked.
 */
function heldOff(entry: IamCacheEntry | undefined, profile: string, now: Date): { entry: IamCacheEntry; warning: string } | undefined {
  if (!stillWorks(entry, now) || !entry.failedAt) return undefined;
  const failed = Date.parse(entry.failedAt);
  if (!(failed <= now.getTime() && now.getTime() < failed + IAM_RETRY_MS)) return undefined;
  return {
    entry,
    warning: `Yandex Cloud could not be asked for a new IAM token${ofProfile(profile)} at ${formatInstant(new Date(failed))}; the cached one still works until ${formatInstant(new Date(entry.expiresAt))}, and Cloud is asked again from ${formatInstant(new Date(failed + IAM_RETRY_MS))}.`,
  };
}

/** The OAuth token to exchange, renewed first when due (as print does), and where Cloud's IAM API is for it. */
async function oauthFor(ctx: IamContext, profile: string): Promise<{ current: CurrentToken; iamUrl: string }> {
  const current = await currentToken(ctx, profile);
  if (current.record?.demo) {
    throw new NotLoggedInError(
      `The token${ofProfile(profile)} is a demo token from the built-in emulator, not a Yandex token, so Yandex Cloud cannot exchange it for an IAM token. Log in with a real Yandex token (see the README's Yandex Cloud section), or try --iam against \`yandex-token emulator\`.`,
    );
  }
  const iamUrl = iamUrlForRecord(ctx.api, current.record);
  if (iamUrl === undefined) {
    throw new UserError(
      `The token${ofProfile(profile)} came from ${current.record?.oauthUrl ?? 'another server'}, not Yandex, so Yandex Cloud would not accept it. Set YANDEX_IAM_URL to the IAM API that server's tokens are for (\`yandex-token emulator\`'s own URL, for its tokens).`,
    );
  }
  return { current, iamUrl };
}

/** One exchange at Cloud: Ctrl-C and the like end it, whatever else it says is the caller's to judge. */
function exchange(ctx: IamContext, iamUrl: string, current: CurrentToken, profile: string): Promise<IamToken> {
  const whose = !current.record ? 'the OAuth token in YANDEX_TOKEN' : profile === 'default' ? 'this OAuth token' : `the OAuth token of profile "${profile}"`;
  return createIamToken(ctx.api, iamUrl, current.token, ctx.now(), { whose, profileFlag: profileFlag(profile) });
}

/**
 * Gets a new IAM token under the file's lock and caches it, unless (`reuse`) another run has cached a
 * usable one meanwhile. When Cloud cannot be asked (the network, a server error: not a refusal), a cached
 * token that still works for ten minutes is handed out with a warning (unless `reuse` is off: that is the
 * token an API just refused), and the cache is kept either way, noting when, so that the runs of the next
 * IAM_RETRY_MS hand it out without asking. When the file cannot be written (a
 * read-only folder, a full disk), the token is handed out all the same, uncached.
 */
async function renewed(ctx: IamContext, profile: string, current: CurrentToken, iamUrl: string, reuse: boolean): Promise<IamToken> {
  const oauthHash = hashOf(current.token, iamUrl);
  // Settled by another run meanwhile: a new token cached, or Cloud found out of reach a moment ago.
  const fresh = (data: ConfigData) => {
    if (!reuse) return undefined;
    const entry = cachedFor(data, profile, oauthHash);
    return reusable(entry, ctx.now()) ? { entry } : heldOff(entry, profile, ctx.now());
  };
  // What the change got to: the lock (`reached`), Cloud's answer (`got`) or the cached token to fall back
  // on (`kept`), for a write that then fails.
  let reached = false;
  let got: IamToken | undefined;
  let kept: { entry: IamCacheEntry; warning: string } | undefined;
  let outcome: { entry: IamCacheEntry; warning?: string };
  try {
    outcome = await ctx.store.update<{ entry: IamCacheEntry; warning?: string }>(async (data) => {
      reached = true;
      const settled = fresh(data);
      if (settled) return settled;
      // The login this is for may have been removed or replaced while we waited for the lock.
      const record = forProfile(data.profiles, profile);
      if (!record) throw notLoggedIn(profile);
      if (record.accessToken !== current.token) throw new UserError(`The login${ofProfile(profile)} changed while the IAM token was being got. Run the command again.`);
      const cached = cachedFor(data, profile, oauthHash);
      try {
        got = await exchange(ctx, iamUrl, current, profile);
      } catch (error) {
        if (!reuse || !retryable(error) || !stillWorks(cached, ctx.now())) throw error;
        const warning = `Could not get a new Yandex Cloud IAM token${ofProfile(profile)}; the cached one still works until ${formatInstant(new Date(cached.expiresAt))}. ${error.message}`;
        kept = { entry: cached, warning };
        // Noted, so that the runs of the next few minutes hand it out without waiting on Cloud again.
        data.iam = { ...data.iam, [profile]: { ...cached, failedAt: ctx.now().toISOString() } };
        return kept;
      }
      const entry: IamCacheEntry = { token: got.token, issuedAt: ctx.now().toISOString(), expiresAt: got.expiresAt, oauthTokenHash: oauthHash };
      data.iam = { ...data.iam, [profile]: entry };
      return { entry };
    }, fresh);
  } catch (error) {
    // The file, not Cloud, failed: before the lock was had (a read-only folder, the lock), or in the write
    // after Cloud answered (a full disk), or while noting that Cloud could not be asked (the cached token
    // is handed out all the same). The token works; only its reuse by the next run is lost.
    if (kept && !isInterruption(error)) outcome = kept;
    else if (!(error instanceof UserError) || isInterruption(error) || (reached && got === undefined)) throw error;
    else {
      const token = got ?? (await exchange(ctx, iamUrl, current, profile));
      ctx.err.warn(`The Yandex Cloud IAM token${ofProfile(profile)} could not be kept for the next run, so each run gets a new one until this is fixed: ${error.message}`);
      return token;
    }
  }
  if (outcome.warning) ctx.err.warn(outcome.warning);
  return { token: outcome.entry.token, expiresAt: outcome.entry.expiresAt };
}

/** Cloud could not be asked (the network, a server error), as opposed to refusing the token or being interrupted. */
function retryable(error: unknown): error is UserError {
  return error instanceof UserError && !isInterruption(error) && !(error instanceof NotLoggedInError);
}

/**
 * The IAM token for the profile's OAuth token (renewed first when due; YANDEX_TOKEN when set). A cached one
 * less than an hour old with ten minutes of life left is returned after one read of the file; otherwise a
 * new one is got under the lock, and any number of concurrent callers make one exchange between them.
 * With YANDEX_TOKEN there is no profile to cache it under: each call makes one exchange, and stores nothing.
 */
export async function currentIamToken(ctx: IamContext, profile: string): Promise<{ token: string; expiresAt: string }> {
  const { current, iamUrl } = await oauthFor(ctx, profile);
  if (!current.record) return exchange(ctx, iamUrl, current, profile);
  const entry = cachedFor(ctx.store.read(), profile, hashOf(current.token, iamUrl));
  if (reusable(entry, ctx.now())) return { token: entry.token, expiresAt: entry.expiresAt };
  const held = heldOff(entry, profile, ctx.now());
  if (held) {
    ctx.err.warn(held.warning);
    return { token: held.entry.token, expiresAt: held.entry.expiresAt };
  }
  return renewed(ctx, profile, current, iamUrl, true);
}

/**
 * A new IAM token whatever the cache holds (after an API answered 401 to the cached one), cached in its
 * place. A failure is thrown as it is: the cached token is the one that was just refused.
 */
export async function renewIamToken(ctx: IamContext, profile: string): Promise<{ token: string; expiresAt: string }> {
  const { current, iamUrl } = await oauthFor(ctx, profile);
  if (!current.record) return exchange(ctx, iamUrl, current, profile);
  return renewed(ctx, profile, current, iamUrl, false);
}
