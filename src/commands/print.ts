// `yandex-token print`: the token (refreshed first when due) on stdout, alone, as a header, or as JSON.
import type { Context } from '../context.js';
import { currentToken, type CurrentToken } from '../credentials.js';
import { UserError } from '../errors.js';
import { TOKEN_PATTERN, type Store } from '../store.js';

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

/**
 * The token of `current`, refused unless it is fit for a header or a shell word (TOKEN_PATTERN): a
 * hand-edited record or a YANDEX_TOKEN with a newline, a space or an escape sequence would inject a header
 * into every recipe (`curl -H "$(yandex-token print --header)"`) or reach a terminal. print and getToken.
 */
export function printableToken(current: CurrentToken, store: Pick<Store, 'checkedToken'>, profile: string): string {
  if (current.record) return store.checkedToken(current.token, profile);
  if (TOKEN_PATTERN.test(current.token)) return current.token;
  throw new UserError(
    'YANDEX_TOKEN is not a token (a token is 1 to 4096 printable ASCII characters without spaces), so it was not printed. Fix or unset it.',
  );
}

export async function print(options: PrintOptions, ctx: Context): Promise<void> {
  const current = await currentToken(ctx, options.profile);
  const { record } = current;
  const token = printableToken(current, ctx.store, options.profile);
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
