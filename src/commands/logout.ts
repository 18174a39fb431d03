// `yandex-token logout`: revoke the profile's token at Yandex when it can be, then forget it here.
import type { Context } from '../context.js';
import { dropIamToken } from '../store/read.js';
import { apiForRecord } from '../token/server.js';
import { forProfile, isExpired } from '../token/record.js';
import { ofProfile, loginName, profileFlag } from '../messages.js';
import { settingEntries } from '../services.js';
import { OAuthError, UserError, isInterruption } from '../errors.js';
import { revokeToken } from '../yandex/oauth.js';
import type { TokenRecord } from '../token/record.js';
import { formatExpiry } from '../time.js';

export interface LogoutOptions {
  profile: string;
}

/** Where a person revokes an app's access themselves (https://yandex.ru/dev/id/doc/en/tokens/token-invalidate). */
export const DATA_ACCESS_PAGE = 'https://id.yandex.ru/personal/data-access';

/** Revokes at Yandex; returns a warning instead of throwing, since the local record goes either way. */
async function revoke(ctx: Context, record: TokenRecord): Promise<string | undefined> {
  const revokeThere = `you revoke the app's access at ${DATA_ACCESS_PAGE}`;
  const stillValid = isExpired(record, ctx.now())
    ? `It was forgotten here; the token has expired, but its refresh token stays usable until ${revokeThere}.`
    : `It was forgotten here but stays valid until it expires${record.expiresAt ? ` ${formatExpiry(record.expiresAt, ctx.now())}` : ''} or until ${revokeThere}.`;
  if (!record.clientSecret) return `No client secret is stored, so the token could not be revoked at Yandex. ${stillValid}`;
  try {
    await revokeToken(apiForRecord(ctx.api, record), { accessToken: record.accessToken, clientId: record.clientId, clientSecret: record.clientSecret });
    return undefined;
  } catch (error) {
    if (isInterruption(error)) throw error;
    if (error instanceof OAuthError && error.code === 'unsupported_token_type') {
      return `Yandex lets an app revoke only tokens issued for a device, and this one was not. ${stillValid}`;
    }
    if (error instanceof UserError) return `Could not revoke the token at Yandex. ${error.message} ${stillValid}`;
    throw error;
  }
}

export async function logout(options: LogoutOptions, ctx: Context): Promise<void> {
  const { profile } = options;
  const envNote = () => {
    if (ctx.settings.token) ctx.err.warn('YANDEX_TOKEN is still set in the environment, so `yandex-token print` keeps printing it.');
  };
  // Read without the lock first, so that logging out when logged out creates no folder and no lock.
  if (!ctx.store.get(profile)) {
    ctx.err.line(`Not logged in${ofProfile(profile)}; nothing to do.`);
    envNote();
    return;
  }
  // Revoke inside the lock: a print refreshing at the same moment cannot leave a new token behind.
  const outcome = await ctx.store.update(async (data) => {
    const record = forProfile(data.profiles, profile);
    if (!record) return undefined;
    // A demo token's emulator has stopped, and Yandex never issued it: there is nothing to revoke.
    const warning = record.demo ? undefined : await revoke(ctx, record);
    delete data.profiles[profile];
    dropIamToken(data, profile);
    return { record, warning };
  });
  if (!outcome) {
    ctx.err.line(`Not logged in${ofProfile(profile)}; nothing to do.`);
  } else if (outcome.record.demo) {
    ctx.err.line(`Forgot the demo token${ofProfile(profile)}: it was removed from ${ctx.store.path} (there was nothing to revoke).`);
  } else {
    const who = loginName(outcome.record);
    if (outcome.warning) ctx.err.warn(outcome.warning);
    ctx.err.line(
      `Logged out ${ctx.err.bold(who)}${ofProfile(profile)}: ${outcome.warning ? 'the token was' : 'the token was revoked at Yandex and'} removed from ${ctx.store.path}.`,
    );
  }
  if (outcome) keptSettings(ctx, profile);
  envNote();
}

/** Settings outlive a logout (a login later uses them again): one line says so, and how to drop them. */
function keptSettings(ctx: Context, profile: string): void {
  const { settings } = ctx.store.read();
  const kept = settings && Object.hasOwn(settings, profile) ? settingEntries(settings[profile]!).map(([key]) => key) : [];
  if (kept.length === 0) return;
  ctx.err.line(`Kept this profile's ${kept.join(', ')} for the next login; \`yandex-token profile unset${profileFlag(profile)}\` removes them.`);
}
