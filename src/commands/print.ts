// `yandex-token print`: the token (renewed first when due) on stdout, alone, as a header, or as JSON; with
// --iam, a Yandex Cloud IAM token got for it (token/iam.ts, loaded only then).
import type { Context } from '../context.js';
import { currentToken } from '../token/current.js';
import { formatToken, type PrintFormat } from '../token/record.js';

export interface PrintOptions extends PrintFormat {
  profile: string;
  /** A Yandex Cloud IAM token for the profile's OAuth token instead of the OAuth token. */
  iam?: boolean;
}

/** What `print --iam --json` writes: `profile` is null for an IAM token got for YANDEX_TOKEN. */
export interface PrintedIamToken {
  token: string;
  expiresAt: string;
  kind: 'iam';
  profile: string | null;
}

export async function print(options: PrintOptions, ctx: Context): Promise<void> {
  if (options.iam) {
    const { currentIamToken } = await import('../token/iam.js');
    const { token, expiresAt } = await currentIamToken(ctx, options.profile);
    const printed: PrintedIamToken = { token, expiresAt, kind: 'iam', profile: ctx.settings.token ? null : options.profile };
    ctx.stdout.write(options.json ? `${JSON.stringify(printed, null, 2)}\n` : `${token}\n`);
    return;
  }
  const { token, record } = await currentToken(ctx, options.profile, { warnExpiry: true });
  ctx.stdout.write(formatToken(token, record, options.profile, options));
}
