// Turning Yandex's token answers into stored records, and reading a usable token back.
import { NotLoggedInError } from './errors.js';
import type { TokenResponse } from './oauth.js';
import type { Store, TokenRecord } from './store.js';

export interface RecordSource {
  clientId: string;
  clientSecret?: string;
  login?: string;
  deviceId?: string;
  deviceName?: string;
  /** The scope asked for: Yandex names the granted scope only when it is narrower. */
  requestedScope?: string;
}

export function recordFromResponse(token: TokenResponse, source: RecordSource, now: Date): TokenRecord {
  const record: TokenRecord = {
    accessToken: token.access_token,
    refreshToken: token.refresh_token,
    tokenType: token.token_type,
    expiresAt: token.expires_in ? new Date(now.getTime() + token.expires_in * 1000).toISOString() : undefined,
    scope: token.scope ?? source.requestedScope,
    clientId: source.clientId,
    clientSecret: source.clientSecret,
    login: source.login,
    obtainedAt: now.toISOString(),
    deviceId: source.deviceId,
    deviceName: source.deviceId ? source.deviceName : undefined,
  };
  // Leave absent fields out of the file rather than writing nulls.
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as TokenRecord;
}

export function notLoggedIn(profile: string): NotLoggedInError {
  const flag = profile === 'default' ? '' : ` --profile ${profile}`;
  return new NotLoggedInError(`Not logged in${profile === 'default' ? '' : ` (profile "${profile}")`}. Run \`yandex-token login${flag}\` first.`);
}

/** The stored record for a profile, or NotLoggedInError. */
export function requireRecord(store: Store, profile: string): TokenRecord {
  const record = store.get(profile);
  if (!record) throw notLoggedIn(profile);
  return record;
}
