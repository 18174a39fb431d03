// `yandex-token print`: the token (renewed first when due) on stdout, alone, as a header, or as JSON; with
// --for SERVICE, the token that service takes and every header it needs; with --iam, a Yandex Cloud IAM
// token got for it (token/iam.ts, loaded only then).
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import type { ServiceName } from '../services.js';
import { currentToken } from '../token/current.js';
import { serviceCredentials } from '../token/for-service.js';
import { formatToken, printedToken, type PrintFormat, type PrintedToken } from '../token/record.js';

export interface PrintOptions extends PrintFormat {
  profile: string;
  /** --for: the service whose token and headers to print. */
  service?: ServiceName;
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

/**
 * What `print --json --for SERVICE` writes: what print --json writes for the token that service takes
 * (for cloud, an IAM token: what print --iam --json writes), with the service and its headers.
 */
export type PrintedForService = (PrintedToken | PrintedIamToken) & {
  service: ServiceName;
  headers: Record<string, string>;
};

function printedIam(token: string, expiresAt: string, profile: string, ctx: Context): PrintedIamToken {
  return { token, expiresAt, kind: 'iam', profile: ctx.settings.token ? null : profile };
}

export async function print(options: PrintOptions, ctx: Context): Promise<void> {
  if (options.service) return printFor(options, options.service, ctx);
  if (options.iam) {
    const { currentIamToken } = await import('../token/iam.js');
    const { token, expiresAt } = await currentIamToken(ctx, options.profile);
    ctx.stdout.write(options.json ? `${JSON.stringify(printedIam(token, expiresAt, options.profile, ctx), null, 2)}\n` : `${token}\n`);
    return;
  }
  const { token, record } = await currentToken(ctx, options.profile);
  ctx.stdout.write(formatToken(token, record, options.profile, options));
}

async function printFor(options: PrintOptions, service: ServiceName, ctx: Context): Promise<void> {
  if (options.header === 'bearer') {
    throw new UserError('--header bearer and --for both say which Authorization to write: drop --header bearer (--for direct writes Bearer, as Direct wants).');
  }
  const { token, headers, current, iamExpiresAt } = await serviceCredentials(ctx, options.profile, service);
  if (options.json) {
    const printed: PrintedForService = {
      ...(current ? printedToken(token, current.record, options.profile) : printedIam(token, iamExpiresAt!, options.profile, ctx)),
      service,
      headers,
    };
    ctx.stdout.write(`${JSON.stringify(printed, null, 2)}\n`);
  } else if (options.header) {
    ctx.stdout.write(Object.entries(headers).map(([name, value]) => `${name}: ${value}\n`).join(''));
  } else {
    ctx.stdout.write(`${token}\n`);
  }
}
