// What a service gets from a profile: the token it takes (the OAuth token, or for Cloud an IAM token) and
// every header it needs, in order (Authorization first). print --for, api and the Node API's getHeaders.
import type { Context } from '../context.js';
import { authorization, extraHeaders, storedSettings, takesIamToken, type ServiceName, type ServiceSettings } from '../services.js';
import { currentToken, type CurrentToken } from './current.js';

/** The profile's service settings, checked again before they go into a header. */
export function profileSettings(ctx: Pick<Context, 'store'>, profile: string): ServiceSettings {
  return storedSettings(ctx.store.read().settings, profile, ctx.store.path);
}

export interface ServiceCredentials {
  token: string;
  /** Authorization and the service's own headers, in that order. */
  headers: Record<string, string>;
  /** The OAuth token as current.ts handed it out; absent for an IAM token. */
  current?: CurrentToken;
  /** When an IAM token expires (Cloud). */
  iamExpiresAt?: string;
}

/**
 * The token and headers for `service` (undefined: another Yandex host, OAuth alone). A setting the service
 * needs that is missing fails first, before any token is renewed or exchanged.
 */
export async function serviceCredentials(
  ctx: Context,
  profile: string,
  service: ServiceName | undefined,
): Promise<ServiceCredentials> {
  const extra = extraHeaders(service, profileSettings(ctx, profile), profile);
  if (takesIamToken(service)) {
    const { currentIamToken } = await import('./iam.js');
    const iam = await currentIamToken(ctx, profile);
    return { token: iam.token, headers: { Authorization: authorization(service, iam.token), ...extra }, iamExpiresAt: iam.expiresAt };
  }
  const current = await currentToken(ctx, profile);
  return { token: current.token, headers: { Authorization: authorization(service, current.token), ...extra }, current };
}
