// The Yandex OAuth protocol: state, PKCE, the authorize URL, token requests, account info, revocation,
// and turning every way an HTTP call can fail into one sentence. fetch and the base URLs are passed in.
import { createHash, randomBytes } from 'node:crypto';
import { CancelledError, NetworkError, NotLoggedInError, OAuthError, UserError, systemErrorCode, untrusted } from '../errors.js';
import { proxyRoute, type ProxyRoute } from '../proxy.js';
import { BodyTooLarge, send, type Answer, type Ask } from './http.js';
import type { ProxySettings } from '../settings.js';
import { systemClock, type Clock } from '../time.js';
import { TOKEN_PATTERN, type TokenResponse } from '../token/record.js';

export interface YandexApi {
  oauthUrl: string;
  loginUrl: string;
  /** The environment named oauthUrl (YANDEX_OAUTH_URL): it wins over a stored record's own URL. */
  oauthUrlFromEnv?: boolean;
  /** The environment named loginUrl (YANDEX_LOGIN_URL), likewise. */
  loginUrlFromEnv?: boolean;
  /** Yandex Cloud's IAM API (YANDEX_IAM_URL, else Yandex's): where print --iam exchanges the token. */
  iamUrl?: string;
  /** The environment named iamUrl (YANDEX_IAM_URL). */
  iamUrlFromEnv?: boolean;
  /** How requests go out when not directly through node:http(s) (yandex/http.ts): a proxy's, a test's. */
  fetch?: typeof fetch;
  /** The proxies `fetch` routes through, so that a failure names the one in the way. */
  proxy?: ProxySettings;
  timeoutMs: number;
  /** Aborted when the person cancels (Ctrl-C, SIGTERM). */
  signal?: AbortSignal;
  /** What device polling reads and sleeps by; the system's unless a test gives its own. */
  clock?: Clock;
}


export interface AccountInfo {
  login?: string;
  id?: string;
  client_id?: string;
}

interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
}

interface AuthorizeParams {
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

export type Action = 'code' | 'pasted' | 'refresh' | 'device' | 'poll' | 'revoke' | 'info' | 'iam' | 'api';

const ACTION_TEXT: Record<Action, string> = {
  code: 'exchanging the authorization code for a token',
  refresh: 'refreshing the token',
  device: 'asking for a device code',
  pasted: 'exchanging the pasted code for a token',
  poll: 'waiting for the code to be entered on the Yandex page',
  revoke: 'revoking the token',
  info: 'fetching the account info',
  iam: 'exchanging the OAuth token for a Yandex Cloud IAM token',
  api: 'sending the request',
};

/** The variables that name the server an action talks to, for the advice after a failure. */
function urlVariables(action: Action): string {
  return action === 'iam' ? 'YANDEX_IAM_URL' : 'YANDEX_OAUTH_URL / YANDEX_LOGIN_URL';
}

/** Whom an action expected to answer, for "that is not …" sentences. */
function serverName(action: Action): string {
  return action === 'iam' ? 'Yandex Cloud' : 'Yandex';
}

/** The command that starts a device login again, for the sentences that end one (--poll names its own). */
const DEVICE_RESTART = 'yandex-token login --device';

function oauthErrorMessage(action: Action, code: string, description: string | undefined, restart = DEVICE_RESTART): string {
  const said = `Yandex answered ${untrusted(code, 60)}${description ? ` (${untrusted(description)})` : ''}`;
  if (action === 'poll') {
    if (code === 'access_denied') {
      return `Access was declined on the Yandex page. Nothing was stored; run \`${restart}\` again to retry.`;
    }
    if (code === 'expired_token') {
      return `${said}: the code expired before access was allowed. Run \`${restart}\` again and enter the new code.`;
    }
    // Yandex's only known answer for a device code it will not honour (yandex-oauth.md §13); whether a
    // denial gets it too is not known, so the sentence covers both.
    if (code === 'invalid_grant') {
      return `${said}: the code expired or was declined, and Yandex no longer accepts it. Run \`${restart}\` again and enter the new code.`;
    }
  }
  if (action === 'pasted' && (code === 'invalid_grant' || code === 'bad_verification_code')) {
    return `${said}: the pasted code is mistyped, expired or already used; run \`yandex-token login --no-localhost\` again and paste the new code.`;
  }
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


/** " through the proxy http://host:port (HTTPS_PROXY)", or nothing when the request went direct. */
function through(route: ProxyRoute | undefined): string {
  return route ? ` through the proxy ${route.proxy} (${route.variable})` : '';
}

/** The way around a proxy, for the end of a sentence. */
function bypass(route: ProxyRoute): string {
  return `fix or unset ${route.variable}, or add ${route.host} to NO_PROXY to go direct`;
}

/** The status a proxy refused the CONNECT with: undici says "Proxy response (403) !== 200 when HTTP Tunneling". */
function proxyStatus(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const status = /Proxy response \((\d{3})\)/.exec(e instanceof Error ? e.message : '')?.[1];
    if (status) return status;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function networkError(error: unknown, origin: string, action: Action, api: YandexApi, timeout: AbortSignal, route?: ProxyRoute): UserError {
  if (api.signal?.aborted) {
    const reason: unknown = api.signal.reason;
    return reason instanceof UserError ? reason : new CancelledError();
  }
  // A proxy variable that is not an address: already a sentence.
  if (error instanceof UserError) return error;
  if (timeout.aborted) {
    return new NetworkError(
      `${origin} did not answer${through(route)} within ${api.timeoutMs / 1000} s while ${ACTION_TEXT[action]}.`,
      'Check your network or proxy, or raise YANDEX_TOKEN_HTTP_TIMEOUT.',
    );
  }
  const code = systemErrorCode(error);
  if (route) {
    // undici's CONNECT tunnel: "Proxy response (403) !== 200 when HTTP Tunneling".
    const status = proxyStatus(error);
    // 407 is the standard answer; tinyproxy, for one, answers a CONNECT without credentials with 401.
    if (status === '407' || status === '401') {
      return new UserError(
        `The proxy ${route.proxy} (${route.variable}) wants a user name and password (HTTP ${status}) while ${ACTION_TEXT[action]}: put them in ${route.variable} as http://user:password@host:port, or add ${route.host} to NO_PROXY to go direct.`,
      );
    }
    if (status) {
      return new UserError(
        `The proxy ${route.proxy} (${route.variable}) refused to connect to ${origin} (HTTP ${status}) while ${ACTION_TEXT[action]}: check that the proxy allows it, ${bypass(route)}.`,
      );
    }
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      const why =
        code === 'ECONNREFUSED'
          ? 'it refused the connection'
          : code === 'UND_ERR_CONNECT_TIMEOUT'
            ? 'it did not accept the connection in time'
            : code === 'EHOSTUNREACH'
              ? 'it is unreachable'
              : 'its host name could not be resolved';
      return new UserError(
        `Could not reach the proxy ${route.proxy} (${route.variable}) while ${ACTION_TEXT[action]}: ${why}. Check that the proxy runs, ${bypass(route)}.`,
      );
    }
  }
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
  if (route) {
    return new NetworkError(`Could not reach ${origin}${through(route)} while ${ACTION_TEXT[action]}: ${why}.`, `Check the proxy, ${bypass(route)}.`);
  }
  return new NetworkError(
    `Could not reach ${origin} while ${ACTION_TEXT[action]}: ${why}.`,
    action === 'api'
      ? 'Check the URL, and your network, proxy or VPN (HTTPS_PROXY, NO_PROXY).'
      : `Check your network, proxy or VPN, and ${urlVariables(action)} if you set them.`,
  );
}

/** An answer, and where it came from: the origin asked and the proxy it went through, if any. */
export interface Answered {
  response: Answer;
  origin: string;
  route?: ProxyRoute;
}

/**
 * One HTTP request to Yandex (or Yandex Cloud) through yandex/http.ts, within YANDEX_TOKEN_HTTP_TIMEOUT:
 * the answer read whole (at most 1 MiB), or an error sentence naming the way it failed (the network, the
 * proxy, the timeout, Ctrl-C).
 */
export async function request(api: YandexApi, url: string, ask: Ask, action: Action): Promise<Answered> {
  const origin = new URL(url).origin;
  const route = proxyRoute(api.proxy, url);
  const timeout = AbortSignal.timeout(api.timeoutMs);
  const signal = api.signal ? AbortSignal.any([api.signal, timeout]) : timeout;
  try {
    return { response: await send(url, ask, signal, MAX_BODY_BYTES, api.fetch), origin, route };
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      throw new NetworkError(
        `${origin} sent an answer over 1 MiB while ${ACTION_TEXT[action]}; that is not ${serverName(action)}.`,
        `Check ${action === 'iam' ? 'YANDEX_IAM_URL' : 'YANDEX_OAUTH_URL'} and any proxy in the way.`,
      );
    }
    throw networkError(error, origin, action, api, timeout, route);
  }
}

/** The answer's body as a JSON object, or undefined when it is not one. */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

/** The sentence for an answer that is not a JSON object: a server error, a proxy's or a portal's page. */
export function notJson({ response, origin, route }: Answered, action: Action): UserError {
  const type = untrusted((response.contentType ?? 'no content type').split(';')[0] ?? '', 60);
  const server = serverName(action);
  if (route && response.status >= 500) {
    return new UserError(
      `${origin} answered${through(route)} with HTTP ${response.status} (a server error) while ${ACTION_TEXT[action]}: the proxy or ${server} is having trouble; try again in a minute, or ${bypass(route)}.`,
    );
  }
  if (route) {
    return new UserError(
      `${origin} answered${through(route)} with HTTP ${response.status} and ${type || 'a body'} instead of JSON while ${ACTION_TEXT[action]}, so the proxy (or something behind it) answered instead of ${server}: check the proxy, ${bypass(route)}.`,
    );
  }
  if (response.status >= 500) {
    return new NetworkError(
      `${origin} answered HTTP ${response.status} (a server error) while ${ACTION_TEXT[action]}.`,
      `${server} may be having trouble; try again in a minute.`,
    );
  }
  return new NetworkError(
    `${origin} answered HTTP ${response.status} with ${type || 'a body'} instead of JSON while ${ACTION_TEXT[action]}.`,
    `A proxy, VPN or captive portal may be in the way; check your network and ${action === 'iam' ? 'YANDEX_IAM_URL' : 'YANDEX_OAUTH_URL'}.`,
  );
}

/**
 * A request of `yandex-token api` that failed before its answer came, as one sentence naming the host and
 * the proxy, timeout or network to check; `timeout` is the signal that ends the wait for the answer.
 */
export function requestFailure(error: unknown, url: string, api: YandexApi, timeout: AbortSignal): UserError {
  return networkError(error, new URL(url).origin, 'api', api, timeout, proxyRoute(api.proxy, url));
}

/** One HTTP call to Yandex, answered by parsed JSON (2xx) or an error sentence (`restart`: see oauthErrorMessage). */
async function call(api: YandexApi, url: string, ask: Ask, action: Action, restart?: string): Promise<Record<string, unknown>> {
  const answered = await request(api, url, ask, action);
  const { response, origin } = answered;
  if (action === 'info' && response.status === 401) {
    throw new OAuthError('Yandex rejected the token (HTTP 401).', 'invalid_token', undefined, 401);
  }
  const json = jsonObject(response.text);
  if (!json) throw notJson(answered, action);
  if (typeof json.error === 'string') {
    const description = typeof json.error_description === 'string' ? json.error_description : undefined;
    throw new OAuthError(oauthErrorMessage(action, json.error, description, restart), json.error, description, response.status);
  }
  if (response.status < 200 || response.status >= 300) {
    throw new NetworkError(
      `${origin} answered HTTP ${response.status} while ${ACTION_TEXT[action]}.`,
      response.status >= 500 ? 'Yandex may be having trouble; try again in a minute.' : 'Check YANDEX_OAUTH_URL and your network.',
    );
  }
  return json;
}

function form(fields: Record<string, string | undefined>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) body.set(key, value);
  return body;
}

/** Ten years: the longest token lifetime taken at its word (Yandex's last a year). */
const MAX_TOKEN_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

/**
 * The one rule for a number of seconds in Yandex's answers (a token's expires_in, a device code's
 * expires_in and interval): a JSON number, or a string of digits, from 1 to `max`, a fraction rounded
 * down. Anything else (zero, negative, null, text, NaN, more than `max`) counts as not said: a token's
 * expiry is then unknown, a device code's the documented default. It never fails a login over it.
 */
function sensibleSeconds(value: unknown, max: number): number | undefined {
  const n = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
  const whole = Math.floor(n);
  return whole >= 1 && whole <= max ? whole : undefined;
}

/** A token_type as RFC 6749 names them ("bearer"); anything else is dropped. */
const TOKEN_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9._-]{0,39}$/;

/** Scopes: printable ASCII words separated by spaces ("login:info cloud_api:disk.read"); anything else is dropped. */
const SCOPE_PATTERN = /^[\x21-\x7e]+( [\x21-\x7e]+)*$/;

/**
 * An access or refresh token that cannot be one (TOKEN_PATTERN): refused with the whole answer, before
 * anything is stored or printed, since it would go into headers and shells as it is.
 */
function notAToken(action: Action, field: string): UserError {
  return new UserError(
    `Yandex's answer while ${ACTION_TEXT[action]} was refused: its ${field} is not a token (a token is 1 to 4096 printable ASCII characters without spaces), so nothing was stored. Check YANDEX_OAUTH_URL and any proxy in the way; if it is Yandex's, try again later.`,
  );
}

/** Which field of a token answer is unusable, and whether it is missing (only access_token can be). */
export type TokenAnswerFault = { field: 'access_token' | 'refresh_token'; missing: boolean };

/**
 * A token answer (Yandex's, or the JSON a person hands to `login --with-token`), checked field by field
 * where it enters: what passes is safe to store and print. `refuse` makes the error for an unusable
 * access or refresh token, so that each entry says the fix that fits it.
 */
export function checkTokenAnswer(json: Record<string, unknown>, refuse: (fault: TokenAnswerFault) => Error): TokenResponse {
  if (typeof json.access_token !== 'string' || json.access_token === '') throw refuse({ field: 'access_token', missing: true });
  if (!TOKEN_PATTERN.test(json.access_token)) throw refuse({ field: 'access_token', missing: false });
  const refresh = json.refresh_token;
  // Absent, null or empty: no refresh token (Yandex always sends one, but the answer stays usable).
  if (refresh !== undefined && refresh !== null && refresh !== '' && (typeof refresh !== 'string' || !TOKEN_PATTERN.test(refresh))) {
    throw refuse({ field: 'refresh_token', missing: false });
  }
  return {
    access_token: json.access_token,
    token_type: typeof json.token_type === 'string' && TOKEN_TYPE_PATTERN.test(json.token_type) ? json.token_type : undefined,
    expires_in: sensibleSeconds(json.expires_in, MAX_TOKEN_LIFETIME_SECONDS),
    refresh_token: typeof refresh === 'string' && refresh ? refresh : undefined,
    scope: typeof json.scope === 'string' && json.scope.length <= 4096 && SCOPE_PATTERN.test(json.scope) ? json.scope : undefined,
  };
}

/** Yandex's token answer to one of our requests, checked (checkTokenAnswer). */
function tokenFrom(json: Record<string, unknown>, action: Action): TokenResponse {
  return checkTokenAnswer(json, ({ field, missing }) =>
    missing
      ? new NetworkError(`Yandex's answer while ${ACTION_TEXT[action]} had no access_token.`, "Check YANDEX_OAUTH_URL; if it is Yandex's, try again later.")
      : notAToken(action, field),
  );
}

async function tokenRequest(api: YandexApi, fields: Record<string, string | undefined>, action: Action, restart?: string): Promise<TokenResponse> {
  const json = await call(
    api,
    `${api.oauthUrl}/token`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form(fields),
    },
    action,
    restart,
  );
  return tokenFrom(json, action);
}

export function exchangeCode(
  api: YandexApi,
  params: ClientCredentials & {
    code: string;
    codeVerifier: string;
    /** The authorize request's redirect_uri, sent again as RFC 6749 §4.1.3 requires (Yandex accepts it). */
    redirectUri: string;
    deviceId?: string;
    deviceName?: string;
    pasted?: boolean;
  },
): Promise<TokenResponse> {
  return tokenRequest(
    api,
    {
      grant_type: 'authorization_code',
      code: params.code,
      redirect_uri: params.redirectUri,
      client_id: params.clientId,
      client_secret: params.clientSecret,
      code_verifier: params.codeVerifier,
      device_id: params.deviceId,
      device_name: params.deviceId ? params.deviceName : undefined,
    },
    params.pasted ? 'pasted' : 'code',
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
      throw new NotLoggedInError(error.message, { cause: error });
    }
    throw error;
  }
}

/**
 * Revokes a device-bound token (https://yandex.ru/dev/id/doc/en/tokens/token-invalidate). A token issued
 * without device_id is refused with OAuthError code "unsupported_token_type".
 */
export async function revokeToken(api: YandexApi, params: ClientCredentials & { accessToken: string }): Promise<void> {
  await call(
    api,
    `${api.oauthUrl}/revoke_token`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form({ access_token: params.accessToken, client_id: params.clientId, client_secret: params.clientSecret }),
    },
    'revoke',
  );
}

/** The account behind a token (login.yandex.ru/info). A rejected token is OAuthError code "invalid_token". */
export async function fetchAccountInfo(api: YandexApi, accessToken: string): Promise<AccountInfo> {
  const url = `${api.loginUrl}/info?format=json`;
  const json = await call(api, url, { method: 'GET', headers: { authorization: `OAuth ${accessToken}`, accept: 'application/json' } }, 'info');
  // The login is shown in messages and pages: keep it to printable text.
  const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? untrusted(String(value), 100) || undefined : undefined);
  return { login: text(json.login), id: text(json.id), client_id: text(json.client_id) };
}

/** What Yandex's /device/code answered, with the moment the code stops working. */
export interface DeviceCode {
  deviceCode: string;
  /** What the person types on the verification page. */
  userCode: string;
  verificationUrl: string;
  /** Seconds to wait between polls, as Yandex asked. */
  interval: number;
  expiresIn: number;
  /** Date.now() value at which the code expires. */
  expiresAt: number;
}

/** The longest a device code is taken to live (Yandex's live 5 minutes) and the longest wait between polls. */
const MAX_DEVICE_CODE_SECONDS = 24 * 3600;
const MAX_POLL_INTERVAL_SECONDS = 600;

/**
 * POST /device/code (https://yandex.ru/dev/id/doc/en/codes/screen-code-oauth). No client secret: Yandex
 * does not ask for one here. Yandex sends interval and expires_in; the fallbacks are its documented ones.
 */
export async function requestDeviceCode(
  api: YandexApi,
  params: { clientId: string; deviceId?: string; deviceName?: string; scope?: string; optionalScope?: string },
): Promise<DeviceCode> {
  const json = await call(
    api,
    `${api.oauthUrl}/device/code`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form({
        client_id: params.clientId,
        device_id: params.deviceId,
        device_name: params.deviceId ? params.deviceName : undefined,
        scope: params.scope || undefined,
        optional_scope: params.optionalScope || undefined,
      }),
    },
    'device',
  );
  const deviceCode = typeof json.device_code === 'string' ? json.device_code : '';
  const userCode = typeof json.user_code === 'string' ? json.user_code : '';
  // Both are shown or sent as they are: refuse anything a terminal could take for control characters.
  if (!deviceCode || !userCode || /[\x00-\x1f\x7f]/.test(userCode + deviceCode)) {
    throw new UserError(
      "Yandex's answer while asking for a device code had no usable device_code or user_code. Check YANDEX_OAUTH_URL; if it is Yandex's, try again later.",
    );
  }
  const rawUrl = typeof json.verification_url === 'string' ? json.verification_url : `${api.oauthUrl}/device`;
  let verificationUrl: string;
  try {
    const url = new URL(rawUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http');
    verificationUrl = url.toString();
  } catch {
    throw new UserError(
      `Yandex's answer while asking for a device code named "${rawUrl.replace(/[\x00-\x1f\x7f]/g, '')}" as the page to enter it on, which is not a web address. Check YANDEX_OAUTH_URL.`,
    );
  }
  const interval = sensibleSeconds(json.interval, MAX_POLL_INTERVAL_SECONDS) ?? 5;
  const expiresIn = sensibleSeconds(json.expires_in, MAX_DEVICE_CODE_SECONDS) ?? 600;
  return { deviceCode, userCode, verificationUrl, interval, expiresIn, expiresAt: (api.clock ?? systemClock).now() + expiresIn * 1000 };
}

function abortReason(signal: AbortSignal): UserError {
  const reason: unknown = signal.reason;
  return reason instanceof UserError ? reason : new CancelledError();
}

/** The clock's sleep, ending in the signal's error (CancelledError for a reason that is not ours). */
async function pause(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await clock.sleep(ms, signal);
  } catch (error) {
    throw signal?.aborted ? abortReason(signal) : error;
  }
}

function deviceCodeExpired(device: DeviceCode, restart: string): UserError {
  const lifetime = device.expiresIn % 60 === 0 ? `${device.expiresIn / 60} min` : `${device.expiresIn} s`;
  return new UserError(`The code expired (it lives ${lifetime}) before access was allowed. Run \`${restart}\` again and enter the new code.`);
}

function deviceCodeExpiredUnreachable(device: DeviceCode, unreachable: NetworkError, restart: string): UserError {
  return new NetworkError(
    `The code ${device.userCode} expired while Yandex could not be reached.`,
    `The last try: ${unreachable.message} Then run \`${restart}\` again.`,
    { cause: unreachable },
  );
}

/** Where a device-code poll stands when it stops without a token (pollDeviceToken with a deadline). */
interface DevicePending {
  /** Seconds between polls now in force (raised by slow_down). */
  interval: number;
  /** Date.now() value of the last poll, so that the next run keeps the interval. */
  lastPollAt: number;
}

/**
 * Polls /token with Yandex's shape (grant_type=device_code, the device code in `code`) until a token.
 * Waits the interval after the last poll (or after the code was issued) before every poll, 5 s longer
 * after each slow_down (RFC 8628 §3.5), never past the code's expiry; authorization_pending goes on,
 * anything else ends it as an error sentence. With a deadline it returns where it stands instead of
 * waiting for a poll that would fall after it, having polled at least once.
 */
export async function pollDeviceToken(
  api: YandexApi,
  params: ClientCredentials & {
    device: DeviceCode;
    deviceId?: string;
    deviceName?: string;
    /** Date.now() of the previous poll, by an earlier run; default: now (the code was just issued). */
    lastPollAt?: number;
    /** Date.now() value after which no poll starts; absent: poll until the code expires. */
    deadline?: number;
    /**
     * The deadline is a bound on the wait (login --device --timeout): no poll is promised, and when the
     * next one would fall after it, the wait runs to the deadline and returns there.
     */
    bounded?: boolean;
    /**
     * Told when a poll could not reach Yandex (error) and when one reaches it again (undefined). The code
     * outlives a network outage, so polling goes on until it expires or the deadline comes.
     */
    onReachable?: (unreachable: NetworkError | undefined) => void;
    /** The command that starts the login again, for the sentences that end this one (default `yandex-token login --device`). */
    restart?: string;
  },
): Promise<TokenResponse | DevicePending> {
  const { device, restart = DEVICE_RESTART } = params;
  const clock = api.clock ?? systemClock;
  let interval = device.interval;
  let lastPollAt = params.lastPollAt ?? clock.now();
  let polled = false;
  let unreachable: NetworkError | undefined;
  const reached = (now: NetworkError | undefined) => {
    if (Boolean(now) !== Boolean(unreachable)) params.onReachable?.(now);
    unreachable = now;
  };
  let lastChance = false;
  for (;;) {
    let at = Math.max(clock.now(), lastPollAt + interval * 1000);
    if ((polled || params.bounded) && params.deadline !== undefined && at > params.deadline) {
      if (params.bounded && !lastChance && params.deadline > lastPollAt && params.deadline < device.expiresAt) {
        // A bounded wait asks once more at its deadline, a little before the interval is up: the code may
        // have been entered since the last poll, and a wait that never asks again would lose it.
        at = params.deadline;
        lastChance = true;
      } else {
        if (params.bounded) await pause(clock, params.deadline - clock.now(), api.signal);
        // Where the last poll did not reach Yandex, that is the news, not that the code is still pending.
        if (unreachable) throw unreachable;
        return { interval, lastPollAt };
      }
    }
    if (device.expiresAt < at) {
      await pause(clock, device.expiresAt - clock.now(), api.signal);
      throw unreachable ? deviceCodeExpiredUnreachable(device, unreachable, restart) : deviceCodeExpired(device, restart);
    }
    await pause(clock, at - clock.now(), api.signal);
    polled = true;
    try {
      const token = await tokenRequest(
        api,
        {
          grant_type: 'device_code',
          code: device.deviceCode,
          client_id: params.clientId,
          client_secret: params.clientSecret,
          device_id: params.deviceId,
          device_name: params.deviceId ? params.deviceName : undefined,
        },
        'poll',
        restart,
      );
      reached(undefined);
      return token;
    } catch (error) {
      if (error instanceof NetworkError) {
        reached(error);
        continue;
      }
      if (!(error instanceof OAuthError)) throw error;
      reached(undefined);
      if (error.code === 'authorization_pending') continue;
      if (error.code === 'slow_down') {
        interval += 5;
        continue;
      }
      throw error;
    } finally {
      // Counted from the answer, not the request: the next poll then reaches Yandex at least an interval
      // after this one did, however long this one took to arrive (Yandex may answer slow_down otherwise).
      lastPollAt = clock.now();
    }
  }
}

export function isToken(result: TokenResponse | DevicePending): result is TokenResponse {
  return 'access_token' in result;
}
