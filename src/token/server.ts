// Which servers a run and a stored login talk to: Yandex's, or the emulator a login came from (kept in the
// record), unless the environment names others. The one owner of that choice.
import { DEFAULT_IAM_URL, DEFAULT_LOGIN_URL, DEFAULT_OAUTH_URL, type Settings } from '../settings.js';
import type { YandexApi } from '../yandex/oauth.js';
import type { TokenRecord } from './record.js';

/**
 * The endpoints of this run, for the Context's api (the one place they live from then on): those the
 * environment names (YANDEX_OAUTH_URL, YANDEX_LOGIN_URL), else Yandex's.
 */
export function currentEndpoints(
  settings: Pick<Settings, 'oauthUrl' | 'loginUrl' | 'iamUrl'>,
): Pick<YandexApi, 'oauthUrl' | 'loginUrl' | 'oauthUrlFromEnv' | 'loginUrlFromEnv' | 'iamUrl' | 'iamUrlFromEnv'> {
  return {
    oauthUrl: settings.oauthUrl ?? DEFAULT_OAUTH_URL,
    loginUrl: settings.loginUrl ?? DEFAULT_LOGIN_URL,
    oauthUrlFromEnv: settings.oauthUrl !== undefined,
    loginUrlFromEnv: settings.loginUrl !== undefined,
    iamUrl: settings.iamUrl ?? DEFAULT_IAM_URL,
    iamUrlFromEnv: settings.iamUrl !== undefined,
  };
}

/**
 * The endpoints for requests about a stored token (or a pending device login): the ones it was issued by
 * (an emulator's, kept in the record) unless the environment names others explicitly (YANDEX_OAUTH_URL /
 * YANDEX_LOGIN_URL win).
 */
export function apiForRecord(api: YandexApi, record: Pick<TokenRecord, 'oauthUrl' | 'loginUrl'>): YandexApi {
  const oauthUrl = api.oauthUrlFromEnv ? api.oauthUrl : (record.oauthUrl ?? api.oauthUrl);
  const loginUrl = api.loginUrlFromEnv ? api.loginUrl : (record.loginUrl ?? api.loginUrl);
  return oauthUrl === api.oauthUrl && loginUrl === api.loginUrl ? api : { ...api, oauthUrl, loginUrl };
}

/** The base URLs a record or a pending login keeps: only those that are not Yandex's (an emulator's). */
export function nonDefaultEndpoints(api: YandexApi): { oauthUrl?: string; loginUrl?: string } {
  return {
    oauthUrl: api.oauthUrl === DEFAULT_OAUTH_URL ? undefined : api.oauthUrl,
    loginUrl: api.loginUrl === DEFAULT_LOGIN_URL ? undefined : api.loginUrl,
  };
}


/**
 * Where a stored token is exchanged for a Yandex Cloud IAM token: YANDEX_IAM_URL when set, else Yandex
 * Cloud's, but only for a token Yandex issued. A token from another server (an emulator, kept in the
 * record) would only be refused there, so it is undefined: the caller asks for YANDEX_IAM_URL.
 */
export function iamUrlForRecord(api: YandexApi, record: Pick<TokenRecord, 'oauthUrl'> | undefined): string | undefined {
  if (api.iamUrlFromEnv || !record?.oauthUrl) return api.iamUrl ?? DEFAULT_IAM_URL;
  return undefined;
}
