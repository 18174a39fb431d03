// `yandex-token print`: the token (refreshed first when due) on stdout, alone, as a header, or as JSON.
import type { Context } from '../context.js';
import { currentToken } from '../credentials.js';

export interface PrintOptions {
  profile: string;
  /** One JSON object: token, expiresAt, login, scope, profile, source. */
  json?: boolean;
  /** `Authorization: OAuth <token>` (Disk, Metrica, most APIs) or `Authorization: Bearer <token>` (Direct). */
  header?: HeaderScheme;
}

export const HEADER_SCHEMES = ['oauth', 'bearer'] as const;
export type HeaderScheme = (typeof HEADER_SCHEMES)[number];

/** What `print --json` writes. Fields Yandex never told us are null. */
export interface PrintedToken {
  token: string;
  expiresAt: string | null;
  login: string | null;
  scope: string | null;
  profile: string | null;
  source: 'config' | 'environment';
}

export async function print(options: PrintOptions, ctx: Context): Promise<void> {
  const { token, record } = await currentToken(ctx, options.profile);
  if (options.json) {
    const printed: PrintedToken = {
      token,
      expiresAt: record?.expiresAt ?? null,
      login: record?.login ?? null,
      scope: record?.scope ?? null,
      profile: record ? options.profile : null,
      source: record ? 'config' : 'environment',
    };
    ctx.stdout.write(`${JSON.stringify(printed, null, 2)}\n`);
  } else if (options.header) {
    ctx.stdout.write(`Authorization: ${options.header === 'bearer' ? 'Bearer' : 'OAuth'} ${token}\n`);
  } else {
    ctx.stdout.write(`${token}\n`);
  }
}
