// `yandex-token print`: the token (renewed first when due) on stdout, alone, as a header, or as JSON.
import type { Context } from '../context.js';
import { currentToken } from '../token/current.js';
import { formatToken, type PrintFormat } from '../token/record.js';

export interface PrintOptions extends PrintFormat {
  profile: string;
}

export async function print(options: PrintOptions, ctx: Context): Promise<void> {
  const { token, record } = await currentToken(ctx, options.profile, { warnExpiry: true });
  ctx.stdout.write(formatToken(token, record, options.profile, options));
}
