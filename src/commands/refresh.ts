// `yandex-token refresh`: renew the stored token now, whatever its expiry, under the same lock as print.
import type { Context } from '../context.js';
import { loginName, ofProfile } from '../messages.js';
import { forceRefresh } from '../token/renew.js';
import { formatExpiry } from '../time.js';

export interface RefreshOptions {
  profile: string;
}

export async function refresh(options: RefreshOptions, ctx: Context): Promise<void> {
  const { record } = await forceRefresh(ctx.store, ctx.api, options.profile, ctx.now);
  const who = loginName(record);
  const expiry = record.expiresAt ? ` It expires ${formatExpiry(record.expiresAt, ctx.now())}.` : '';
  ctx.err.line(`Refreshed the token for ${ctx.err.bold(who)}${ofProfile(options.profile)}.${expiry}`);
  if (ctx.settings.token) ctx.err.warn('YANDEX_TOKEN is set, so `yandex-token print` prints that token, not this one.');
}
