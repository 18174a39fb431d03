// Yandex Cloud IAM tokens for a profile (a stub: the real module, with the exchange and its cache, comes
// with `print --iam`; it replaces this file and keeps these two signatures).
import type { Context } from '../context.js';
import { UserError } from '../errors.js';

/** The profile's IAM token, from the cache while it lasts. */
export async function currentIamToken(ctx: Context, profile: string): Promise<{ token: string; expiresAt: string }> {
  void ctx;
  void profile;
  throw new UserError('IAM tokens are not available yet.');
}

/** A new IAM token for the profile, whatever the cache holds (after a Cloud API answered 401). */
export async function renewIamToken(ctx: Context, profile: string): Promise<{ token: string; expiresAt: string }> {
  void ctx;
  void profile;
  throw new UserError('IAM tokens are not available yet.');
}
