// The Yandex OAuth protocol: state, PKCE, the authorize URL, token requests, account info, revocation,
// and turning every way an HTTP call can fail into one sentence. fetch and the base URLs are passed in.
import { createHash, randomBytes } from 'node:crypto';
import { CancelledError, NotLoggedInError, OAuthError, UserError, systemErrorCode, untrusted } from './errors.js';

export interface YandexApi {
  oauthUrl: string;
  loginUrl: string;
  fetch: typeof fetch;
  timeoutMs: number;
  /** Aborted when the person cancels (Ctrl-C, SIGTERM). */
  signal?: AbortSignal;
}

/** Yandex's token response (https://yandex.ru/dev/id/doc/en/codes/code-url). */
export interface TokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
}

export interface AccountInfo {
  login?: string;
  id?: string;
  client_id?: string;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
}

export interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  deviceId?: string;
  deviceName?: string;
  scope?: string;
  optionalScope?: string;
  loginHint?: string;
  forceConfirm?: boolean;
}

/** Bodies larger than this are not Yandex answering: refuse them rather than buffer them. */
const MAX_BODY_BYTES = 1024 * 1024;

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** 256 bits from the system's CSPRNG. */
export function createState(): string {
  return base64url(randomBytes(32));
}

/** RFC 7636 S256: a 43-character verifier and its SHA-256 challenge. */
export function createPkce(): { verifier: string; challenge: string } {
  const verifier = base64url(randomBytes(32));
  return { verifier, challenge: base64url(createHash('sha256').update(verifier).digest()) };
}

/** A device_id for Yandex: 6–50 printable ASCII characters, random, kept per profile. */
export function createDeviceId(): string {
  return `yt-${randomBytes(16).toString('hex')}`;
}

export function defaultDeviceName(hostname: string): string {
  return `yandex-token on ${hostname}`.slice(0, 100);
}

export function authorizeUrl(oauthUrl: string, params: AuthorizeParams): string {
  const url = new URL(`${oauthUrl}/authorize`);
  const query: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: params.clientId,
    redirect_uri: params.redirectUri,
    state: params.state,
    code_challenge: params.codeChallenge,
    code_challenge_method: 'S256',
    device_id: params.deviceId,
    device_name: params.deviceId ? params.deviceName : undefined,
    scope: params.scope,
    optional_scope: params.optionalScope,
    login_hint: params.loginHint,
    force_confirm: params.forceConfirm ? 'yes' : undefined,
  };
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(key, value);
  }
  return url.toString();
}

type Action = 'code' | 'refresh' | 'device' | 'revoke' | 'info';

const ACTION_TEXT: Record<Action, string> = {
  code: 'exchanging the authorization code for a token',
  refresh: 'refreshing the token',
  device: 'asking for a device code',
  revoke: 'revoking the token',
  info: 'fetching the account info',
};

function oauthErrorMessage(action: Action, code: string, description: string | undefined): string {
  const said = `Yandex answered ${untrusted(code, 60)}${description ? ` (${untrusted(description)})` : ''}`;
  switch (code) {
    case 'invalid_client':
      return `${said}: the client ID or client secret is wrong. Check them on the app's page at https://oauth.yandex.ru and pass them again.`;
    case 'invalid_grant':
    case 'bad_verification_code':
      return action === 'refresh'
        ? `${said}: the refresh token is no longer valid. Run \`yandex-token login\` again.`
        : `${said}: the code expired or was already used. Run \`yandex-token login\` again.`;
    case 'unauthorized_client':
      return `${said}: the app is blocked or awaiting moderation. Check it at https://oauth.yandex.ru.`;
    case 'invalid_scope':
      return `${said}: the requested permissions are not among the app's. Check --scope against the app's settings.`;
    case 'unsupported_token_type':
      return `${said}: this token was not issued for a device, so the app cannot revoke it.`;
    default:
      return `${said} while ${ACTION_TEXT[action]}.`;
  }
}

class BodyTooLarge extends Error {}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function networkError(error: unknown, origin: string, action: Action, api: YandexApi, timeout: AbortSignal): UserError {
  if (api.signal?.aborted) {
    const reason: unknown = api.signal.reason;
    return reason instanceof UserError ? reason : new CancelledError();
  }
  if (timeout.aborted) {
    return new UserError(
      `${origin} did not answer within ${api.timeoutMs / 1000} s while ${ACTION_TEXT[action]}. Check your network or proxy, or raise YANDEX_TOKEN_HTTP_TIMEOUT.`,
    );
  }
  const code = systemErrorCode(error);
  const why =
    code === 'ECONNREFUSED'
      ? 'the connection was refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'the host name could not be resolved'
        : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
          ? 'the connection was reset'
          : code
            ? `the request failed (${code})`
            : 'the request failed';
  return new UserError(
    `Could not reach ${origin} while ${ACTION_TEXT[action]}: ${why}. Check your network, proxy or VPN, and YANDEX_OAUTH_URL / YANDEX_LOGIN_URL if you set them.`,
  );
}

/** One HTTP call to Yandex, answered by parsed JSON (2xx) or an error sentence. */
async function call(api: YandexApi, url: string, init: RequestInit, action: Action): Promise<Record<string, unknown>> {
  const origin = new URL(url).origin;
  const timeout = AbortSignal.timeout(api.timeoutMs);
  const signal = api.signal ? AbortSignal.any([api.signal, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await api.fetch(url, { ...init, signal, redirect: 'manual' });
    text = await readCapped(response);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      throw new UserError(
        `${origin} sent an answer over 1 MiB while ${ACTION_TEXT[action]}; that is not Yandex. Check YANDEX_OAUTH_URL and any proxy in the way.`,
      );
    }
    throw networkError(error, origin, action, api, timeout);
  }
  if (action === 'info' && response.status === 401) {
    throw new OAuthError('Yandex rejected the token (HTTP 401).', 'invalid_token', undefined, 401);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const type = untrusted((response.headers.get('content-type') ?? 'no content type').split(';')[0] ?? '', 60);
    if (response.status >= 500) {
      throw new UserError(
        `${origin} answered HTTP ${response.status} (a server error) while ${ACTION_TEXT[action]}. Yandex may be having trouble; try again in a minute.`,
      );
    }
    throw new UserError(
      `${origin} answered HTTP ${response.status} with ${type || 'a body'} instead of JSON while ${ACTION_TEXT[action]}. A proxy, VPN or captive portal may be in the way; check your network and YANDEX_OAUTH_URL.`,
    );
  }
  const json = body as Record<string, unknown>;
  if (typeof json.error === 'string') {
    const description = typeof json.error_description === 'string' ? json.error_description : undefined;
    throw new OAuthError(oauthErrorMessage(action, json.error, description), json.error, description, response.status);
  }
  if (response.status < 200 || response.status >= 300) {
    throw new UserError(
      `${origin} answered HTTP ${response.status} while ${ACTION_TEXT[action]}. ${response.status >= 500 ? 'Yandex may be having trouble; try again in a minute.' : 'Check YANDEX_OAUTH_URL and your network.'}`,
    );
  }
  return json;
}

function form(fields: Record<string, string | undefined>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) body.set(key, value);
  return body;
}

async function tokenRequest(api: YandexApi, fields: Record<string, string | undefined>, action: Action): Promise<TokenResponse> {
  const json = await call(
    api,
    `${api.oauthUrl}/token`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form(fields),
    },
    action,
  );
  if (typeof json.access_token !== 'string' || json.access_token === '') {
    throw new UserError(
      `Yandex's answer while ${ACTION_TEXT[action]} had no access_token. Check YANDEX_OAUTH_URL; if it is Yandex's, try again later.`,
    );
  }
  return {
    access_token: json.access_token,
    token_type: typeof json.token_type === 'string' ? json.token_type : undefined,
    expires_in: typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : undefined,
    refresh_token: typeof json.refresh_token === 'string' && json.refresh_token ? json.refresh_token : undefined,
    scope: typeof json.scope === 'string' && json.scope ? json.scope : undefined,
  };
}

export function exchangeCode(
  api: YandexApi,
  params: ClientCredentials & { code: string; codeVerifier: string; deviceId?: string; deviceName?: string },
): Promise<TokenResponse> {
  return tokenRequest(
    api,
    {
      grant_type: 'authorization_code',
      code: params.code,
      client_id: params.clientId,
      client_secret: params.clientSecret,
      code_verifier: params.codeVerifier,
      device_id: params.deviceId,
      device_name: params.deviceId ? params.deviceName : undefined,
    },
    'code',
  );
}

/** grant_type=refresh_token. invalid_grant (the refresh token is dead) becomes NotLoggedInError. */
export async function refreshToken(api: YandexApi, params: ClientCredentials & { refreshToken: string }): Promise<TokenResponse> {
  try {
    return await tokenRequest(
      api,
      {
        grant_type: 'refresh_token',
        refresh_token: params.refreshToken,
        client_id: params.clientId,
        client_secret: params.clientSecret,
      },
      'refresh',
    );
  } catch (error) {
    if (error instanceof OAuthError && ['invalid_grant', 'invalid_client', 'unauthorized_client'].includes(error.code)) {
      throw new NotLoggedInError(error.message);
    }
    throw error;
  }
}

/** The account behind a token (login.yandex.ru/info). A rejected token is OAuthError code "invalid_token". */
export async function fetchAccountInfo(api: YandexApi, accessToken: string): Promise<AccountInfo> {
  const url = `${api.loginUrl}/info?format=json`;
  const json = await call(api, url, { headers: { authorization: `OAuth ${accessToken}`, accept: 'application/json' } }, 'info');
  // The login is shown in messages and pages: keep it to printable text.
  const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? untrusted(String(value), 100) || undefined : undefined);
  return { login: text(json.login), id: text(json.id), client_id: text(json.client_id) };
}
