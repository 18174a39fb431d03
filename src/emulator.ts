// A local Yandex OAuth emulator on loopback, written from Yandex's documentation (see README): authorize
// with a consent page, token (authorization_code + PKCE, refresh_token with rotation, device_code),
// device/code and its page, verification_code, revoke_token and login.yandex.ru/info, and how Disk,
// Metrica and Direct take the token (for trying scripts' requests). The project's tests run against it,
// and `yandex-token emulator` serves it for trying the tool without a Yandex app.
// Never a stand-in for Yandex in production: it keeps everything in memory and trusts whoever clicks.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PAGE_HEADERS, escapeHtml } from './html.js';

export interface EmulatorClient {
  id: string;
  secret: string;
  name: string;
  /** With strict redirects, the registered Redirect URIs; otherwise any loopback http URI is accepted. */
  redirectUris?: string[];
  /** The app's registered permissions; a request for others gets invalid_scope. Absent: any scope. */
  scopes?: string[];
  /** Rejected at moderation or blocked: authorize and token answer unauthorized_client. */
  blocked?: boolean;
}

export interface EmulatorAccount {
  login: string;
  id: string;
}

export interface EmulatorOptions {
  host?: string;
  port?: number;
  clients?: EmulatorClient[];
  account?: EmulatorAccount;
  /** expires_in of issued tokens, seconds. */
  tokenLifetimeSeconds?: number;
  /** Only these redirect URIs are accepted (as a real app registration), matched on scheme, host, port, path. */
  strictRedirect?: boolean;
  deviceIntervalSeconds?: number;
  deviceExpiresInSeconds?: number;
  codeLifetimeSeconds?: number;
  /**
   * Which reading of the device flow's errors to play (yandex-oauth.md §6.2, §13): 'invalid_grant'
   * (default: the only evidence for Yandex, a yadisk docstring and the Go clients) answers invalid_grant
   * for an unknown, expired or denied code and never says slow_down by itself; 'rfc8628' answers
   * RFC 8628's expired_token, access_denied and slow_down (for polls faster than the interval), which no
   * Yandex source shows, so that a client can be held to tolerating them.
   */
  deviceErrors?: 'rfc8628' | 'invalid_grant';
  /**
   * The shape of issued authorization codes: '16-alphanumeric' (default; Yandex's glossary: "a 16-character
   * string", and alphanumeric codes observed since 2025) or '7-digit' (older recordings). A code not of
   * the issued shape is bad_verification_code. Clients must treat codes as opaque; tests run both.
   */
  codeFormat?: '16-alphanumeric' | '7-digit';
  /**
   * RFC 6749 §4.1.3: when the authorize request named a redirect_uri, the code exchange must carry the
   * identical one, or invalid_grant. Yandex does not require it (its documented exchange and the recorded
   * clients omit it), so by default its absence is accepted; a redirect_uri that is sent must still be
   * the one the code was issued for (the strict reading of an undocumented case). Set this to play a
   * standards-enforcing server.
   */
  requireRedirectUri?: boolean;
  /** Every answer is delayed by this many milliseconds (a slow network or an overloaded Yandex). */
  slowMs?: number;
  /** Called when an answer has gone out (or the connection closed without one): for a request log. */
  onRequest?: (entry: { method: string; path: string; status?: number }) => void;
}

export type FailureMode =
  | 'server-error' // 503 with an HTML page
  | 'html' // 200 with an HTML page (a captive portal, a proxy's login)
  | 'truncated' // 200 with half a JSON document
  | 'no-access-token' // 200 with JSON that lacks access_token
  | 'huge' // 200 with 10 MB of JSON
  | 'reset' // the connection is destroyed
  | 'hang' // never answers
  | 'stall'; // sends the headers and half a body, then nothing more

export const FAILURE_MODES: readonly FailureMode[] = ['server-error', 'html', 'truncated', 'no-access-token', 'huge', 'reset', 'hang'];

export type Endpoint = '/authorize' | '/token' | '/device/code' | '/revoke_token' | '/info';

export const ENDPOINTS: readonly Endpoint[] = ['/authorize', '/token', '/device/code', '/revoke_token', '/info'];

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  authorization?: string;
  at: number;
}

interface Grant {
  clientId: string;
  scope?: string;
  deviceId?: string;
  deviceName?: string;
}

interface PendingAuthorization extends Grant {
  responseType: 'code' | 'token';
  redirectUri: string;
  /** The authorize request named redirect_uri itself (not the registered default). */
  redirectUriSent?: boolean;
  state?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
}

interface IssuedCode extends PendingAuthorization {
  expiresAt: number;
}

interface AccessToken extends Grant {
  expiresAt: number;
  revoked: boolean;
}

interface RefreshToken {
  access: string;
  /** "The lifetime of the refresh token is the same as the OAuth token lifetime" (yandex-oauth.md §4.2). */
  expiresAt: number;
}

interface DeviceCode extends Grant {
  userCode: string;
  expiresAt: number;
  interval: number;
  lastPollAt?: number;
  status: 'pending' | 'approved' | 'denied';
}

export const DEMO_CLIENT: EmulatorClient = {
  id: 'demo-client-id',
  secret: 'demo-client-secret',
  name: 'yandex-token demo app',
};

export const DEMO_ACCOUNT: EmulatorAccount = { login: 'demo.user', id: '1000000001' };

const VERIFICATION_PATH = '/verification_code';
const MAX_LOGGED_REQUESTS = 10_000;

export interface Emulator {
  /** Base URL for both YANDEX_OAUTH_URL and YANDEX_LOGIN_URL. */
  url: string;
  close(): Promise<void>;
  /** Makes the next `times` requests to an endpoint fail in the given way. */
  fail(endpoint: Endpoint, mode: FailureMode, times?: number): void;
  clearFailures(): void;
  /** How often each thing happened: "token:authorization_code", "token:refresh_token", "revoke", … */
  counts: Record<string, number>;
  requests: LoggedRequest[];
  /**
   * Issues a token pair directly, as if a login had happened (for tests of refresh, status, logout). As at
   * Yandex, the refresh token dies with the access token, unless refreshExpiresIn says otherwise (an
   * expired access token whose refresh still works: `expiresIn: 0, refreshExpiresIn: 3600`).
   */
  issueToken(grant: Partial<Grant> & { expiresIn?: number; refreshExpiresIn?: number }): {
    access_token: string;
    refresh_token: string;
    expires_in: number;
  };
  /** Approves or denies a device code by its user code, as the person would on the device page. */
  decideDevice(userCode: string, allow: boolean): boolean;
  /** Expires every device code now. */
  expireDeviceCodes(): void;
  /** Expires every authorization code now (codes live 10 minutes). */
  expireCodes(): void;
  /** Delays every answer from now on by this many milliseconds (0: no delay). */
  slow(ms: number): void;
  /**
   * Answers the next device-code poll with slow_down and raises that code's interval by 5 s, as a busy
   * server may (RFC 8628 §3.5), in either reading of deviceErrors: no Yandex source shows it, but a
   * client must cope. With 'rfc8628', a client that polls faster than the new interval gets it again.
   */
  slowDownNextPoll(): void;
  /** Revokes every token, as "Log out on all devices" in Yandex ID would. */
  revokeAll(): void;
}

function token(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isLoopbackHttp(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

/** The path as written: URL would turn "http://h:1" into "http://h:1/", and whether Yandex does is UNCONFIRMED. */
function rawPath(uri: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(uri)?.[1] ?? '';
}

/**
 * Yandex's rule: scheme, host, port and path must match; query and fragment may differ. With exactPath
 * an empty path and "/" differ (the strict reading of yandex-oauth.md §12.1).
 */
function redirectMatches(registered: string, requested: string, exactPath = false): boolean {
  try {
    const a = new URL(registered);
    const b = new URL(requested);
    const samePath = exactPath ? rawPath(registered) === rawPath(requested) : a.pathname === b.pathname;
    return a.protocol === b.protocol && a.hostname === b.hostname && a.port === b.port && samePath;
  } catch {
    return false;
  }
}

/** Form fields, or undefined when one is given twice ("parameter … duplicated" is invalid_request). */
function parseForm(body: string): Record<string, string> | undefined {
  const entries = [...new URLSearchParams(body)];
  if (new Set(entries.map(([key]) => key)).size !== entries.length) return undefined;
  return Object.fromEntries(entries);
}

const DEVICE_ID = /^[\x20-\x7e]{6,50}$/;

/** 16 letters and digits, as Yandex's glossary describes a confirmation code. */
function alphanumericCode(): string {
  // 32 random bytes make 43 base64 characters, about 41 of them letters or digits: always 16 to keep.
  return randomBytes(32).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 16);
}

// The viewport line makes a phone lay the page out at its own width (the device page is where
// `login --device` sends people, often on a phone); without it, mobile browsers render at 980 px and shrink.
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Yandex OAuth emulator</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;overflow-wrap:anywhere}
.note{color:#a15c00;font-size:.9em}input,button{font-size:1em}button{padding:.4em 1.2em;margin:0 .6em .6em 0}
input{padding:.3em;max-width:100%;box-sizing:border-box}code{font-size:1.3em}h1{font-size:1.5em;line-height:1.25}</style>
</head><body><p class="note">Yandex OAuth emulator — not Yandex. Tokens issued here work only with this emulator.</p>
${body}</body></html>
`;
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const clients = new Map((options.clients ?? [DEMO_CLIENT]).map((c) => [c.id, c]));
  const account = options.account ?? DEMO_ACCOUNT;
  const lifetime = options.tokenLifetimeSeconds ?? 31_536_000;
  const codeLifetime = options.codeLifetimeSeconds ?? 600;
  const rfcDeviceErrors = options.deviceErrors === 'rfc8628';
  const sevenDigitCodes = options.codeFormat === '7-digit';
  let slowMs = options.slowMs ?? 0;

  const pendingAuthorizations = new Map<string, PendingAuthorization>();
  const codes = new Map<string, IssuedCode>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, RefreshToken>();
  const deviceCodes = new Map<string, DeviceCode>();
  const failures = new Map<string, { mode: FailureMode; times: number }>();
  const counts: Record<string, number> = {};
  const requests: LoggedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const delays = new Set<NodeJS.Timeout>();
  let base = '';
  let slowDownPending = false;

  const count = (key: string) => void (counts[key] = (counts[key] ?? 0) + 1);

  const grantOf = ({ clientId, scope, deviceId, deviceName }: Grant): Grant => ({ clientId, scope, deviceId, deviceName });

  const issue = (grant: Grant, expiresIn = lifetime, refreshExpiresIn = expiresIn) => {
    const access = token('y0_emu_');
    const refresh = token('1:emu:');
    accessTokens.set(access, { ...grantOf(grant), expiresAt: Date.now() + expiresIn * 1000, revoked: false });
    refreshTokens.set(refresh, { access, expiresAt: Date.now() + refreshExpiresIn * 1000 });
    return { access_token: access, expires_in: expiresIn, refresh_token: refresh, token_type: 'bearer' };
  };

  /** Scopes the client may not ask for: a comma-separated list fails on Yandex too (yandex-oauth.md §1.2). */
  const scopeProblem = (client: EmulatorClient, scope: string | undefined): string | undefined => {
    if (!scope) return undefined;
    if (scope.includes(',')) return 'Scopes are separated by spaces, not commas';
    const unknown = scope.split(/\s+/).filter((s) => s && client.scopes && !client.scopes.includes(s));
    return unknown.length ? `The app has no permission ${unknown.join(' ')}` : undefined;
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const oauthError = (res: ServerResponse, error: string, description: string, status = 400) =>
    json(res, status, { error, error_description: description });
  const html = (res: ServerResponse, status: number, title: string, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { ...PAGE_HEADERS, ...headers });
    res.end(page(title, body));
  };
  // Browsers apply form-action to the redirect that answers a form post too
  // (https://www.w3.org/TR/CSP3/#directive-form-action), so the consent page must allow the redirect
  // URI's scheme or a real browser never reaches the app. IPv6 hosts cannot be named in a CSP source.
  const consentHeaders = (redirectUri: string) => ({
    'content-security-policy': PAGE_HEADERS['content-security-policy'].replace(
      "form-action 'self'",
      `form-action 'self' ${new URL(redirectUri).protocol}`,
    ),
  });
  const redirect = (res: ServerResponse, location: string) => {
    res.writeHead(302, { location, 'cache-control': 'no-store' });
    res.end();
  };

  /** Client authentication: the Basic header wins over body parameters, as Yandex documents. */
  const authenticate = (
    req: IncomingMessage,
    form: Record<string, string>,
  ): { client?: EmulatorClient; secretGiven: boolean; error?: string } => {
    let id = form.client_id;
    let secret = form.client_secret;
    const header = req.headers.authorization;
    if (header) {
      if (!/^Basic(\s|$)/i.test(header)) return { secretGiven: false, error: 'Basic auth required' };
      const encoded = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header)?.[1];
      const decoded = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 0) return { secretGiven: false, error: 'Malformed Authorization header' };
      id = decoded.slice(0, colon);
      secret = decoded.slice(colon + 1);
    }
    const client = id ? clients.get(id) : undefined;
    if (!client) return { secretGiven: false, error: 'Client not found' };
    if (secret !== undefined && !sameSecret(secret, client.secret)) return { secretGiven: true, error: 'Wrong client secret' };
    return { client, secretGiven: secret !== undefined };
  };

  /** The Basic header's own errors are answered 401 with no description (yandex-oauth.md §4.3). */
  const headerError = (res: ServerResponse, error: string | undefined): boolean => {
    if (error !== 'Basic auth required' && error !== 'Malformed Authorization header') return false;
    json(res, 401, { error });
    return true;
  };

  const validRedirect = (client: EmulatorClient, uri: string): boolean => {
    const strict = Boolean(options.strictRedirect);
    if (redirectMatches(`${base}${VERIFICATION_PATH}`, uri, strict)) return true;
    if (strict) return (client.redirectUris ?? []).some((registered) => redirectMatches(registered, uri, true));
    return isLoopbackHttp(uri);
  };

  /** Back to the app with an error: in the query for codes, in the fragment for the implicit flow. */
  const redirectError = (res: ServerResponse, pending: Pick<PendingAuthorization, 'redirectUri' | 'responseType' | 'state'>, error: string, description: string) => {
    const target = new URL(pending.redirectUri);
    const params = new URLSearchParams({ error, error_description: description });
    if (pending.state !== undefined) params.set('state', pending.state);
    if (pending.responseType === 'token') {
      target.hash = params.toString();
    } else {
      for (const [key, value] of params) target.searchParams.set(key, value);
    }
    redirect(res, target.toString());
  };

  const consentForm = (action: string, id: string, client: EmulatorClient, grant: Grant) => `
<h1>${escapeHtml(client.name)} asks for access</h1>
<p>Account: <b>${escapeHtml(account.login)}</b></p>
<p>Permissions: ${grant.scope ? escapeHtml(grant.scope) : 'all that the app has'}</p>
${grant.deviceName ? `<p>Device: ${escapeHtml(grant.deviceName)}</p>` : ''}
<form method="post" action="${action}">
<input type="hidden" name="request" value="${escapeHtml(id)}">
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>`;

  type Handler = (req: IncomingMessage, res: ServerResponse, query: Record<string, string>, form: Record<string, string>) => void;
  const handlers: Record<string, Handler> = {
    'GET /authorize': (_req, res, q) => {
      count('authorize');
      const client = q.client_id ? clients.get(q.client_id) : undefined;
      if (!client) return html(res, 400, 'Error', '<h1>400 Unknown client with such client_id</h1>');
      if (q.response_type !== 'code' && q.response_type !== 'token') {
        return html(res, 400, 'Error', '<h1>400 unsupported response_type</h1><p>Use response_type=code (or token for a debug token).</p>');
      }
      // Redirect-URI and client problems are shown here, never redirected (yandex-oauth.md §3).
      const redirectUri = q.redirect_uri ?? client.redirectUris?.[0] ?? `${base}${VERIFICATION_PATH}`;
      if (!validRedirect(client, redirectUri)) {
        return html(res, 400, 'Error', '<h1>400 redirect_uri does not match the Callback URL defined for the client</h1>');
      }
      if (q.code_challenge_method && !['S256', 'plain'].includes(q.code_challenge_method)) {
        return html(res, 400, 'Error', '<h1>400 invalid code_challenge_method</h1>');
      }
      if (q.device_id !== undefined && !DEVICE_ID.test(q.device_id)) {
        return html(res, 400, 'Error', '<h1>400 invalid device_id</h1><p>6–50 printable ASCII characters.</p>');
      }
      if (q.state !== undefined && q.state.length > 1024) {
        return html(res, 400, 'Error', '<h1>400 state is longer than 1024 characters</h1>');
      }
      const responseType = q.response_type;
      if (client.blocked) {
        return redirectError(res, { redirectUri, responseType, state: q.state }, 'unauthorized_client', 'The application is blocked or awaiting moderation');
      }
      const badScope = scopeProblem(client, q.scope) ?? scopeProblem(client, q.optional_scope);
      if (badScope) return redirectError(res, { redirectUri, responseType, state: q.state }, 'invalid_scope', badScope);
      const id = token('', 12);
      const grant: PendingAuthorization = {
        clientId: client.id,
        responseType,
        redirectUri,
        redirectUriSent: q.redirect_uri !== undefined,
        state: q.state,
        codeChallenge: q.code_challenge,
        codeChallengeMethod: q.code_challenge ? (q.code_challenge_method ?? 'plain') : undefined,
        scope: [q.scope, q.optional_scope].filter(Boolean).join(' ') || undefined,
        deviceId: q.device_id,
        deviceName: q.device_id ? (q.device_name?.slice(0, 100) ?? 'unknown device') : undefined,
      };
      pendingAuthorizations.set(id, grant);
      html(res, 200, 'Allow access', consentForm('/authorize/decision', id, client, grant), consentHeaders(redirectUri));
    },

    'POST /authorize/decision': (_req, res, _q, form) => {
      const pending = form.request ? pendingAuthorizations.get(form.request) : undefined;
      if (!pending || !form.request) return html(res, 400, 'Error', '<h1>This request has expired. Start again.</h1>');
      pendingAuthorizations.delete(form.request);
      const target = new URL(pending.redirectUri);
      if (form.decision !== 'allow') {
        count('denied');
        return redirectError(res, pending, 'access_denied', 'The user denied access');
      }
      if (pending.responseType === 'token') {
        // A debug token: in the fragment, with no refresh token (yandex-oauth.md §2.4, §11).
        const { access_token, expires_in, token_type } = issue(pending);
        const fragment = new URLSearchParams({ access_token, token_type, expires_in: String(expires_in) });
        if (pending.state !== undefined) fragment.set('state', pending.state);
        target.hash = fragment.toString();
        return redirect(res, target.toString());
      }
      const code = sevenDigitCodes ? String(1_000_000 + (randomBytes(4).readUInt32BE() % 9_000_000)) : alphanumericCode();
      codes.set(code, { ...pending, expiresAt: Date.now() + codeLifetime * 1000 });
      target.searchParams.set('code', code);
      if (pending.state !== undefined) target.searchParams.set('state', pending.state);
      target.searchParams.set('cid', token('', 6));
      redirect(res, target.toString());
    },

    [`GET ${VERIFICATION_PATH}`]: (_req, res, q) => {
      if (q.error) return html(res, 400, 'Error', `<h1>Access was not granted</h1><p>${escapeHtml(q.error)}</p>`);
      if (!q.code) {
        return html(res, 200, 'Your token', '<h1>No code in this address</h1><p>For response_type=token the token is in this page\'s address, after <code>#access_token=</code>.</p>');
      }
      html(res, 200, 'Your code', `<h1>Your confirmation code</h1><p><code id="code">${escapeHtml(q.code)}</code></p><p>Enter it in the app.</p>`);
    },

    'POST /token': (req, res, _q, form) => {
      const grantType = form.grant_type;
      count(`token:${grantType ?? 'none'}`);
      if (!grantType) return oauthError(res, 'invalid_request', 'Missing grant_type');
      const auth = authenticate(req, form);
      if (headerError(res, auth.error)) return;
      if (!auth.client) return oauthError(res, 'invalid_client', auth.error ?? 'Client not found');
      const client = auth.client;
      if (client.blocked) return oauthError(res, 'unauthorized_client', 'The application is blocked or awaiting moderation');

      if (grantType === 'authorization_code') {
        if (!form.code) return oauthError(res, 'invalid_request', 'Missing code');
        if (!(sevenDigitCodes ? /^\d{7}$/ : /^[A-Za-z0-9]{16}$/).test(form.code)) {
          return oauthError(res, 'bad_verification_code', 'Invalid verification code format');
        }
        const issued = codes.get(form.code);
        codes.delete(form.code);
        if (!issued || issued.expiresAt <= Date.now()) return oauthError(res, 'invalid_grant', 'Code has expired');
        if (issued.clientId !== client.id) return oauthError(res, 'invalid_grant', 'Code was issued to another application');
        if (form.redirect_uri !== undefined ? form.redirect_uri !== issued.redirectUri : options.requireRedirectUri && issued.redirectUriSent) {
          return oauthError(res, 'invalid_grant', 'redirect_uri does not match the one in the authorization request');
        }
        if (issued.codeChallenge) {
          const verifier = form.code_verifier;
          if (!verifier) return oauthError(res, 'invalid_grant', 'code_verifier required');
          const transformed =
            issued.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
          if (!sameSecret(transformed, issued.codeChallenge)) return oauthError(res, 'invalid_grant', 'Invalid code_verifier');
        } else if (!auth.secretGiven) {
          return oauthError(res, 'invalid_client', 'client_secret required');
        }
        // device_id in the token request counts only when the authorize request had none (yandex-oauth.md §4.1).
        if (!issued.deviceId && form.device_id !== undefined) {
          if (!DEVICE_ID.test(form.device_id)) return oauthError(res, 'invalid_request', 'Invalid device_id');
          issued.deviceId = form.device_id;
          issued.deviceName = form.device_name?.slice(0, 100) ?? 'unknown device';
        }
        return json(res, 200, issue(issued));
      }

      if (!auth.secretGiven) return oauthError(res, 'invalid_client', 'client_secret required');

      if (grantType === 'refresh_token') {
        if (!form.refresh_token) return oauthError(res, 'invalid_request', 'Missing refresh_token');
        const refreshRecord = refreshTokens.get(form.refresh_token);
        const access = refreshRecord?.access;
        const record = access ? accessTokens.get(access) : undefined;
        if (!refreshRecord || !access || !record || record.revoked || record.clientId !== client.id || refreshRecord.expiresAt <= Date.now()) {
          return oauthError(res, 'invalid_grant', 'Invalid refresh token');
        }
        // Rotation: the old refresh token dies (whether Yandex's does is UNCONFIRMED; this is the strict
        // reading). The access token stays the same while it has more than half its life left (as Yandex
        // does for long-lived tokens), otherwise a new one is issued.
        refreshTokens.delete(form.refresh_token);
        const remaining = record.expiresAt - Date.now();
        if (remaining > (lifetime * 1000) / 2) {
          const refresh = token('1:emu:');
          record.expiresAt = Date.now() + lifetime * 1000;
          refreshTokens.set(refresh, { access, expiresAt: record.expiresAt });
          return json(res, 200, { access_token: access, expires_in: lifetime, refresh_token: refresh, token_type: 'bearer' });
        }
        accessTokens.delete(access);
        return json(res, 200, issue(record));
      }

      if (grantType === 'device_code') {
        if (!form.code) return oauthError(res, 'invalid_request', 'Missing code');
        const device = deviceCodes.get(form.code);
        if (!device || device.clientId !== client.id) return oauthError(res, 'invalid_grant', 'Invalid device code');
        const now = Date.now();
        if (device.expiresAt <= now) {
          deviceCodes.delete(form.code);
          return rfcDeviceErrors
            ? oauthError(res, 'expired_token', 'Device code has expired')
            : oauthError(res, 'invalid_grant', 'Device code has expired');
        }
        const tooSoon =
          slowDownPending || (rfcDeviceErrors && device.lastPollAt !== undefined && now - device.lastPollAt < device.interval * 1000 - 50);
        slowDownPending = false;
        device.lastPollAt = now;
        if (tooSoon) {
          device.interval += 5;
          count('slow_down');
          return oauthError(res, 'slow_down', 'Polling too frequently');
        }
        if (device.status === 'denied') {
          deviceCodes.delete(form.code);
          return rfcDeviceErrors
            ? oauthError(res, 'access_denied', 'The user denied access')
            : oauthError(res, 'invalid_grant', 'The user denied access');
        }
        if (device.status === 'pending') return oauthError(res, 'authorization_pending', 'User has not yet authorized your application');
        deviceCodes.delete(form.code);
        return json(res, 200, issue(device));
      }

      return oauthError(res, 'unsupported_grant_type', `Unsupported grant_type ${grantType}`);
    },

    'POST /device/code': (_req, res, _q, form) => {
      count('device_code');
      if (!form.client_id) return oauthError(res, 'invalid_request', 'Missing client_id');
      const client = clients.get(form.client_id);
      if (!client) return oauthError(res, 'invalid_client', 'Client not found');
      if (client.blocked) return oauthError(res, 'unauthorized_client', 'The application is blocked or awaiting moderation');
      if (form.device_id !== undefined && !DEVICE_ID.test(form.device_id)) return oauthError(res, 'invalid_request', 'Invalid device_id');
      const badScope = scopeProblem(client, form.scope) ?? scopeProblem(client, form.optional_scope);
      if (badScope) return oauthError(res, 'invalid_scope', badScope);
      const deviceCode = token('', 16).slice(0, 32);
      const userCode = Array.from(randomBytes(8), (b) => String.fromCharCode(97 + (b % 26))).join('');
      const expiresIn = options.deviceExpiresInSeconds ?? 300;
      const interval = options.deviceIntervalSeconds ?? 5;
      deviceCodes.set(deviceCode, {
        clientId: client.id,
        userCode,
        expiresAt: Date.now() + expiresIn * 1000,
        interval,
        status: 'pending',
        scope: [form.scope, form.optional_scope].filter(Boolean).join(' ') || undefined,
        deviceId: form.device_id,
        deviceName: form.device_id ? (form.device_name?.slice(0, 100) ?? 'unknown device') : undefined,
      });
      json(res, 200, { device_code: deviceCode, user_code: userCode, verification_url: `${base}/device`, interval, expires_in: expiresIn });
    },

    'GET /device': (_req, res) => {
      html(res, 200, 'Enter the code', `<h1>Enter the code shown by the app</h1>
<form method="post" action="/device"><input name="user_code" id="user_code" autocomplete="off" autofocus>
<button type="submit" id="continue">Continue</button></form>`);
    },

    'POST /device': (_req, res, _q, form) => {
      const entry = [...deviceCodes.values()].find((d) => d.userCode === form.user_code?.trim().toLowerCase() && d.expiresAt > Date.now());
      if (!entry) return html(res, 400, 'Wrong code', '<h1>Wrong or expired code</h1><p><a href="/device">Try again</a></p>');
      const client = clients.get(entry.clientId)!;
      html(res, 200, 'Allow access', consentForm('/device/decision', entry.userCode, client, entry));
    },

    'POST /device/decision': (_req, res, _q, form) => {
      if (!form.request || !decideDevice(form.request, form.decision === 'allow')) {
        return html(res, 400, 'Wrong code', '<h1>Wrong or expired code</h1>');
      }
      html(res, 200, 'Done', `<h1>${form.decision === 'allow' ? 'Access allowed' : 'Access denied'}</h1><p>Return to the app.</p>`);
    },

    'POST /revoke_token': (req, res, _q, form) => {
      count('revoke');
      const auth = authenticate(req, form);
      if (headerError(res, auth.error)) return;
      if (!auth.client || !auth.secretGiven) return oauthError(res, 'invalid_client', auth.error ?? 'client_secret required');
      if (!form.access_token) return oauthError(res, 'invalid_request', 'Missing access_token');
      const record = accessTokens.get(form.access_token);
      if (!record) return json(res, 200, { status: 'ok' });
      if (record.clientId !== auth.client.id) return oauthError(res, 'invalid_grant', 'Token belongs to another application');
      if (!record.deviceId) return oauthError(res, 'unsupported_token_type', 'Token was not issued for a device');
      record.revoked = true;
      for (const [refresh, { access }] of refreshTokens) if (access === form.access_token) refreshTokens.delete(refresh);
      count('revoked');
      json(res, 200, { status: 'ok' });
    },

    'GET /info': (req, res, q) => {
      count('info');
      // The header (OAuth, or Bearer as observed), or the discouraged oauth_token parameter.
      const match = /^(?:OAuth|Bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const presented = match?.[1] ?? q.oauth_token;
      const record = presented ? accessTokens.get(presented) : undefined;
      if (!record || record.revoked || record.expiresAt <= Date.now()) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end('401 Unauthorized');
      }
      if (q.format !== undefined && q.format !== 'json') {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`The emulator answers format=json only, not format=${q.format}.`);
      }
      const rights = record.scope?.split(/\s+/) ?? clients.get(record.clientId)?.scopes ?? [];
      json(res, 200, {
        id: account.id,
        login: account.login,
        client_id: record.clientId,
        psuid: `1.${createHash('sha256').update(record.clientId + account.id).digest('base64url').slice(0, 20)}`,
        ...(rights.includes('login:email') ? { default_email: `${account.login}@yandex.ru`, emails: [`${account.login}@yandex.ru`] } : {}),
        ...(rights.includes('login:info') ? { display_name: account.login, real_name: account.login } : {}),
        ...(rights.includes('login:avatar') ? { default_avatar_id: '0/0-0', is_avatar_empty: true } : {}),
      });
    },
  };

  /**
   * Stand-ins for three Yandex APIs, enough to try a script's requests against the emulator: only how each
   * takes the token is modelled (yandex-oauth.md §9.2): Disk and Metrica want "Authorization: OAuth
   * <token>", Direct v5 wants "Authorization: Bearer <token>", and each refuses the other scheme. The
   * bodies are small examples in each API's shape, not their data.
   */
  const apiToken = (req: IncomingMessage, scheme: 'OAuth' | 'Bearer'): AccessToken | undefined => {
    const match = new RegExp(`^${scheme}\\s+(\\S+)$`).exec(req.headers.authorization ?? '');
    const record = match?.[1] ? accessTokens.get(match[1]) : undefined;
    return record && !record.revoked && record.expiresAt > Date.now() ? record : undefined;
  };
  const diskInfo: Handler = (req, res) => {
    count('api:disk');
    if (!apiToken(req, 'OAuth')) return json(res, 401, { message: 'Не авторизован.', description: 'Unauthorized', error: 'UnauthorizedError' });
    json(res, 200, { user: { login: account.login, uid: account.id }, total_space: 10_737_418_240, used_space: 0, trash_size: 0, is_paid: false });
  };
  const apiHandlers: Record<string, Handler> = {
    'GET /v1/disk': diskInfo,
    'GET /v1/disk/': diskInfo,
    'GET /management/v1/counters': (req, res) => {
      count('api:metrica');
      if (!apiToken(req, 'OAuth')) {
        return json(res, 401, { errors: [{ error_type: 'invalid_token', message: 'Invalid oauth_token' }], code: 401, message: 'Invalid oauth_token' });
      }
      json(res, 200, { rows: 0, counters: [] });
    },
    'POST /json/v5/campaigns': (req, res) => {
      count('api:direct');
      // Direct answers errors in the body (error_code 53: authorization error); whether with HTTP 200 is
      // UNCONFIRMED, and 200 is the reading that makes a script look at the body.
      if (!apiToken(req, 'Bearer')) {
        return json(res, 200, {
          error: { request_id: randomBytes(8).toString('hex'), error_code: 53, error_string: 'Authorization error', error_detail: 'Pass the OAuth token as "Authorization: Bearer <token>".' },
        });
      }
      json(res, 200, { result: { Campaigns: [] } });
    },
  };
  Object.assign(handlers, apiHandlers);

  const decideDevice = (userCode: string, allow: boolean): boolean => {
    const entry = [...deviceCodes.values()].find((d) => d.userCode === userCode && d.status === 'pending');
    if (!entry || entry.expiresAt <= Date.now()) return false;
    entry.status = allow ? 'approved' : 'denied';
    return true;
  };

  const injectFailure = (res: ServerResponse, mode: FailureMode) => {
    switch (mode) {
      case 'server-error':
        res.writeHead(503, { 'content-type': 'text/html' });
        return res.end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html><body><h1>Please sign in to the network</h1></body></html>');
      case 'truncated':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"access_token": "y0_trunc');
      case 'no-access-token':
        return json(res, 200, { token_type: 'bearer', expires_in: 3600 });
      case 'huge': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = `"${'x'.repeat(1024 * 1024 - 3)}",`;
        res.write('{"padding":[');
        for (let i = 0; i < 10; i++) res.write(chunk);
        return res.end('""]}');
      }
      case 'reset':
        return res.socket?.destroy();
      case 'hang':
        hanging.add(res);
        return;
      case 'stall':
        hanging.add(res);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"access_token": "y0_stall');
        return;
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const query = Object.fromEntries(url.searchParams);
      if (options.onRequest) {
        res.once('close', () => options.onRequest?.({ method: req.method ?? '', path: url.pathname, status: res.headersSent ? res.statusCode : undefined }));
      }
      let form: Record<string, string> | undefined = {};
      if (req.method === 'POST') {
        try {
          form = parseForm(await readBody(req));
        } catch {
          return oauthError(res, 'invalid_request', 'Request body too large', 413);
        }
      }
      if (requests.length >= MAX_LOGGED_REQUESTS) requests.shift();
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query,
        form: form ?? {},
        authorization: req.headers.authorization,
        at: Date.now(),
      });
      if (slowMs > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            delays.delete(timer);
            resolve();
          }, slowMs);
          delays.add(timer);
        });
        if (res.destroyed) return;
      }
      const failure = failures.get(url.pathname);
      if (failure && failure.times > 0) {
        failure.times -= 1;
        return injectFailure(res, failure.mode);
      }
      const handler = handlers[`${req.method} ${url.pathname}`];
      if (!handler) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end('Not found');
      }
      if (!form) return oauthError(res, 'invalid_request', 'A parameter is duplicated');
      handler(req, res, query, form);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 }, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  base = `http://${host}:${address.port}`;

  return {
    url: base,
    counts,
    requests,
    fail(endpoint, mode, times = Number.POSITIVE_INFINITY) {
      failures.set(endpoint, { mode, times });
    },
    clearFailures() {
      failures.clear();
    },
    issueToken({ expiresIn, refreshExpiresIn, ...grant }) {
      return issue({ clientId: DEMO_CLIENT.id, ...grant }, expiresIn ?? lifetime, refreshExpiresIn ?? expiresIn ?? lifetime);
    },
    decideDevice,
    expireDeviceCodes() {
      for (const device of deviceCodes.values()) device.expiresAt = 0;
    },
    expireCodes() {
      for (const code of codes.values()) code.expiresAt = 0;
    },
    slow(ms) {
      slowMs = ms;
    },
    slowDownNextPoll() {
      slowDownPending = true;
    },
    revokeAll() {
      for (const record of accessTokens.values()) record.revoked = true;
      refreshTokens.clear();
    },
    close() {
      for (const res of hanging) res.socket?.destroy();
      for (const timer of delays) clearTimeout(timer);
      delays.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export interface BrowsedPage {
  /** Where it stopped: the authorize page, the consent form, or the app's redirect target. */
  stage: 'authorize' | 'consent' | 'callback';
  status: number;
  html: string;
  location?: string;
}

function formValue(html: string, pattern: RegExp): string | undefined {
  const match = pattern.exec(html);
  return match?.[1]?.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

/**
 * What a person does on the device page for `login --device`: enters the user code at `verificationUrl`
 * (the emulator's /device) and presses Allow or Deny. Over plain HTTP, as browseConsent does for /authorize.
 */
export async function enterDeviceCode(verificationUrl: string, userCode: string, decision: 'allow' | 'deny' = 'allow'): Promise<BrowsedPage> {
  const post = (path: string, form: Record<string, string>) =>
    fetch(new URL(path, verificationUrl), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  const entered = await post('/device', { user_code: userCode });
  const consent = await entered.text();
  const request = formValue(consent, /name="request" value="([^"]+)"/);
  if (entered.status !== 200 || !request) return { stage: 'authorize', status: entered.status, html: consent };
  const decided = await post('/device/decision', { request, decision });
  return { stage: 'consent', status: decided.status, html: await decided.text() };
}

/**
 * Plays a person's browser against the emulator: opens the authorize URL, presses Allow or Deny on the
 * consent page, and follows the redirect to the app, returning the page the app answered with. The
 * tests' scripted browser and `login --demo` on a machine without a display both use it.
 */
export async function browseConsent(url: string, decision: 'allow' | 'deny' = 'allow'): Promise<BrowsedPage> {
  const authorize = await fetch(url, { redirect: 'manual' });
  const consent = await authorize.text();
  const action = formValue(consent, /<form method="post" action="([^"]+)"/);
  const request = formValue(consent, /name="request" value="([^"]+)"/);
  if (authorize.status !== 200 || !action || !request) return { stage: 'authorize', status: authorize.status, html: consent };
  const decided = await fetch(new URL(action, url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision }),
    redirect: 'manual',
  });
  const location = decided.headers.get('location');
  if (!location) return { stage: 'consent', status: decided.status, html: await decided.text() };
  const callback = await fetch(new URL(location, url), { redirect: 'manual' });
  return { stage: 'callback', status: callback.status, html: await callback.text(), location };
}
