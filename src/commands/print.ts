// `yandex-token print`: the token and a newline on stdout, nothing else.
import type { Context } from '../context.js';
import { requireRecord } from '../credentials.js';

export interface PrintOptions {
  profile: string;
}

export async function print(options: PrintOptions, ctx: Context): Promise<void> {
  const token = ctx.settings.token ?? requireRecord(ctx.store, options.profile).accessToken;
  ctx.stdout.write(`${token}\n`);
}
