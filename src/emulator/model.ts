// The emulator's state and Yandex's rules over it, as plain data and functions with no HTTP: clients and the
// account, pending authorizations, authorization codes, device codes, access and refresh tokens (issue,
// refresh with rotation, revoke, expire), the failures armed for the server to play, and its counts and
// request log. Time is the model's now(), Date.now unless a test gives another clock.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

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

/** The options that shape the model (EmulatorOptions adds the server's own). */
export interface ModelOptions {
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

export type Endpoint = '/authorize' | '/token' | '/device/code' | '/revoke_token' | '/info' | '/iam/v1/tokens';

export const ENDPOINTS: readonly Endpoint[] = ['/authorize', '/token', '/device/code', '/revoke_token', '/info', '/iam/v1/tokens'];

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  /** A JSON body (Yandex Cloud's IAM exchange), parsed; absent for forms and GETs. */
  json?: unknown;
  authorization?: string;
  at: number;
}

export interface Grant {
  clientId: string;
  scope?: string;
  deviceId?: string;
  deviceName?: string;
}

export interface PendingAuthorization extends Grant {
  responseType: 'code' | 'token';
  redirectUri: string;
  /** The authorize request named redirect_uri itself (not the registered default). */
  redirectUriSent?: boolean;
  state?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
}

export interface IssuedCode extends PendingAuthorization {
  expiresAt: number;
}

export interface AccessToken extends Grant {
  expiresAt: number;
  revoked: boolean;
}

interface RefreshToken {
  access: string;
  /** "The lifetime of the refresh token is the same as the OAuth token lifetime" (yandex-oauth.md §4.2). */
  expiresAt: number;
}

export interface DeviceCode extends Grant {
  userCode: string;
  expiresAt: number;
  interval: number;
  lastPollAt?: number;
  status: 'pending' | 'approved' | 'denied';
}

/** The token endpoint's answer for an issued pair. */
export interface TokenAnswer {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  token_type: 'bearer';
}

export const DEMO_CLIENT: EmulatorClient = {
  id: 'demo-client-id',
  secret: 'demo-client-secret',
  name: 'yandex-token demo app',
};

export const DEMO_ACCOUNT: EmulatorAccount = { login: 'demo.user', id: '1000000001' };

/** Where the code lands when an app names no redirect URI: Yandex's page that shows it. */
export const VERIFICATION_PATH = '/verification_code';
const MAX_LOGGED_REQUESTS = 10_000;
const DEVICE_ID = /^[\x20-\x7e]{6,50}$/;

export interface Model {
  readonly clients: Map<string, EmulatorClient>;
  readonly account: EmulatorAccount;
  /** expires_in of issued tokens, seconds. */
  readonly lifetime: number;
  readonly codeLifetime: number;
  readonly deviceExpiresIn: number;
  readonly deviceInterval: number;
  readonly rfcDeviceErrors: boolean;
  readonly sevenDigitCodes: boolean;
  readonly strictRedirect: boolean;
  readonly requireRedirectUri: boolean;
  readonly now: () => number;
  /** The server's base URL, set once it listens: default redirect URIs and the device page name it. */
  base: string;
  readonly pendingAuthorizations: Map<string, PendingAuthorization>;
  readonly codes: Map<string, IssuedCode>;
  readonly accessTokens: Map<string, AccessToken>;
  readonly refreshTokens: Map<string, RefreshToken>;
  readonly deviceCodes: Map<string, DeviceCode>;
  /** Yandex Cloud IAM tokens issued (POST /iam/v1/tokens), with the access token each was got for. */
  readonly iamTokens: Map<string, { access: string; expiresAt: number }>;
  /** Armed by Emulator.fail, by path: the server plays the mode instead of answering, `times` times. */
  readonly failures: Map<string, { mode: FailureMode; times: number }>;
  /** How often each thing happened: "token:authorization_code", "token:refresh_token", "revoke", … */
  readonly counts: Record<string, number>;
  readonly requests: LoggedRequest[];
  /** The next device-code poll is answered slow_down (Emulator.slowDownNextPoll). */
  slowDownPending: boolean;
}

export function createModel(options: ModelOptions = {}, now: () => number = Date.now): Model {
  return {
    clients: new Map((options.clients ?? [DEMO_CLIENT]).map((c) => [c.id, c])),
    account: options.account ?? DEMO_ACCOUNT,
    lifetime: options.tokenLifetimeSeconds ?? 31_536_000,
    codeLifetime: options.codeLifetimeSeconds ?? 600,
    deviceExpiresIn: options.deviceExpiresInSeconds ?? 300,
    deviceInterval: options.deviceIntervalSeconds ?? 5,
    rfcDeviceErrors: options.deviceErrors === 'rfc8628',
    sevenDigitCodes: options.codeFormat === '7-digit',
    strictRedirect: Boolean(options.strictRedirect),
    requireRedirectUri: Boolean(options.requireRedirectUri),
    now,
    base: '',
    pendingAuthorizations: new Map(),
    codes: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    deviceCodes: new Map(),
    iamTokens: new Map(),
    failures: new Map(),
    counts: {},
    requests: [],
    slowDownPending: false,
  };
}

export function count(model: Model, key: string): void {
  model.counts[key] = (model.counts[key] ?? 0) + 1;
}

export function randomToken(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// Redirect URIs.

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

export function validRedirect(model: Model, client: EmulatorClient, uri: string): boolean {
  if (redirectMatches(`${model.base}${VERIFICATION_PATH}`, uri, model.strictRedirect)) return true;
  if (model.strictRedirect) return (client.redirectUris ?? []).some((registered) => redirectMatches(registered, uri, true));
  return isLoopbackHttp(uri);
}

// Scopes and devices, as an authorize, device-code or token request names them.

/** Scopes the client may not ask for: a comma-separated list fails on Yandex too (yandex-oauth.md §1.2). */
export function scopeProblem(client: EmulatorClient, scope: string | undefined): string | undefined {
  if (!scope) return undefined;
  if (scope.includes(',')) return 'Scopes are separated by spaces, not commas';
  const unknown = scope.split(/\s+/).filter((s) => s && client.scopes && !client.scopes.includes(s));
  return unknown.length ? `The app has no permission ${unknown.join(' ')}` : undefined;
}

/** The grant's scope: scope and optional_scope together, or none. */
export function scopeOf(scope: string | undefined, optionalScope: string | undefined): string | undefined {
  return [scope, optionalScope].filter(Boolean).join(' ') || undefined;
}

export function isDeviceId(deviceId: string): boolean {
  return DEVICE_ID.test(deviceId);
}

/** The grant's device: a name (cut to 100 characters, or "unknown device") only with an id. */
export function deviceOf(deviceId: string | undefined, deviceName: string | undefined): Pick<Grant, 'deviceId' | 'deviceName'> {
  return { deviceId, deviceName: deviceId ? (deviceName?.slice(0, 100) ?? 'unknown device') : undefined };
}

/** What scopes the token's holder may read: its grant's, or else all its app has. */
export function rightsOf(model: Model, token: AccessToken): string[] {
  return token.scope?.split(/\s+/) ?? model.clients.get(token.clientId)?.scopes ?? [];
}

// Tokens.

/**
 * A new access and refresh token for the grant. As at Yandex, the refresh token dies with the access
 * token, unless refreshExpiresIn says otherwise.
 */
export function issue(model: Model, grant: Grant, expiresIn = model.lifetime, refreshExpiresIn = expiresIn): TokenAnswer {
  const { clientId, scope, deviceId, deviceName } = grant;
  const access = randomToken('y0_emu_');
  const refresh = randomToken('1:emu:');
  model.accessTokens.set(access, { clientId, scope, deviceId, deviceName, expiresAt: model.now() + expiresIn * 1000, revoked: false });
  model.refreshTokens.set(refresh, { access, expiresAt: model.now() + refreshExpiresIn * 1000 });
  return { access_token: access, expires_in: expiresIn, refresh_token: refresh, token_type: 'bearer' };
}

/** The token's record while it works: not revoked, not expired. */
export function liveAccessToken(model: Model, token: string | undefined): AccessToken | undefined {
  const record = token ? model.accessTokens.get(token) : undefined;
  return record && !record.revoked && record.expiresAt > model.now() ? record : undefined;
}

/** A refresh_token grant for the client, or undefined when the refresh token does not work (invalid_grant). */
export function refresh(model: Model, refreshToken: string, clientId: string): TokenAnswer | undefined {
  const refreshRecord = model.refreshTokens.get(refreshToken);
  const access = refreshRecord?.access;
  const record = access ? model.accessTokens.get(access) : undefined;
  if (!refreshRecord || !access || !record || record.revoked || record.clientId !== clientId || refreshRecord.expiresAt <= model.now()) {
    return undefined;
  }
  // Rotation: the old refresh token dies (whether Yandex's does is UNCONFIRMED; this is the strict
  // reading). The access token stays the same while it has more than half its life left (as Yandex
  // does for long-lived tokens), otherwise a new one is issued.
  model.refreshTokens.delete(refreshToken);
  const remaining = record.expiresAt - model.now();
  if (remaining > (model.lifetime * 1000) / 2) {
    const rotated = randomToken('1:emu:');
    record.expiresAt = model.now() + model.lifetime * 1000;
    model.refreshTokens.set(rotated, { access, expiresAt: record.expiresAt });
    return { access_token: access, expires_in: model.lifetime, refresh_token: rotated, token_type: 'bearer' };
  }
  model.accessTokens.delete(access);
  return issue(model, record);
}

/** Revokes the access token and every refresh token that leads to it. */
export function revoke(model: Model, access: string): void {
  const record = model.accessTokens.get(access);
  if (record) record.revoked = true;
  for (const [refreshToken, entry] of model.refreshTokens) if (entry.access === access) model.refreshTokens.delete(refreshToken);
}

/** Revokes every token, as "Log out on all devices" in Yandex ID would. */
export function revokeAll(model: Model): void {
  for (const record of model.accessTokens.values()) record.revoked = true;
  model.refreshTokens.clear();
}

/** "IAM tokens are valid for a maximum of 12 hours" (Yandex Cloud's IAM docs): the emulator's live that long. */
export const IAM_TOKEN_LIFETIME_SECONDS = 12 * 3600;

/**
 * A Yandex Cloud IAM token for a live access token, valid 12 hours on the model's clock, in the shape
 * Cloud's docs give (t1.<id>.<86 characters>); undefined for a token that does not work.
 */
export function issueIamToken(model: Model, access: string): { iamToken: string; expiresAt: number } | undefined {
  if (!liveAccessToken(model, access)) return undefined;
  const iamToken = `t1.${randomBytes(48).toString('base64url')}.${randomBytes(65).toString('base64url').slice(0, 86)}`;
  const expiresAt = model.now() + IAM_TOKEN_LIFETIME_SECONDS * 1000;
  model.iamTokens.set(iamToken, { access, expiresAt });
  return { iamToken, expiresAt };
}

/** Whether the IAM token was issued here and has not expired. */
export function liveIamToken(model: Model, token: string | undefined): boolean {
  const issued = token ? model.iamTokens.get(token) : undefined;
  return issued !== undefined && issued.expiresAt > model.now();
}

// Authorizations and their codes.

/** Keeps an authorize request until the person decides on its consent page; returns the page's id for it. */
export function startAuthorization(model: Model, pending: PendingAuthorization): string {
  const id = randomToken('', 12);
  model.pendingAuthorizations.set(id, pending);
  return id;
}

/** The pending authorization, once: a consent form can be answered only once. */
export function takeAuthorization(model: Model, id: string | undefined): PendingAuthorization | undefined {
  const pending = id ? model.pendingAuthorizations.get(id) : undefined;
  if (id) model.pendingAuthorizations.delete(id);
  return pending;
}

/** 16 letters and digits, as Yandex's glossary describes a confirmation code. */
function alphanumericCode(): string {
  // 32 random bytes make 43 base64 characters, about 41 of them letters or digits: always 16 to keep.
  return randomBytes(32).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 16);
}

/** An authorization code for the allowed request, in the shape the model issues. */
export function issueCode(model: Model, pending: PendingAuthorization): string {
  const code = model.sevenDigitCodes ? String(1_000_000 + (randomBytes(4).readUInt32BE() % 9_000_000)) : alphanumericCode();
  model.codes.set(code, { ...pending, expiresAt: model.now() + model.codeLifetime * 1000 });
  return code;
}

export function hasCodeShape(model: Model, code: string): boolean {
  return (model.sevenDigitCodes ? /^\d{7}$/ : /^[A-Za-z0-9]{16}$/).test(code);
}

/** The code's authorization, once (a code is spent by any exchange), or undefined if unknown or expired. */
export function takeCode(model: Model, code: string): IssuedCode | undefined {
  const issued = model.codes.get(code);
  model.codes.delete(code);
  return issued && issued.expiresAt > model.now() ? issued : undefined;
}

/** PKCE: the verifier, transformed by the challenge's method, is the challenge. */
export function verifierMatches(issued: IssuedCode, verifier: string): boolean {
  const transformed = issued.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return sameSecret(transformed, issued.codeChallenge ?? '');
}

export function expireCodes(model: Model): void {
  for (const code of model.codes.values()) code.expiresAt = 0;
}

// Device codes.

export function issueDeviceCode(model: Model, grant: Grant): { deviceCode: string; userCode: string; interval: number; expiresIn: number } {
  const deviceCode = randomToken('', 16).slice(0, 32);
  const userCode = Array.from(randomBytes(8), (b) => String.fromCharCode(97 + (b % 26))).join('');
  const { deviceExpiresIn: expiresIn, deviceInterval: interval } = model;
  model.deviceCodes.set(deviceCode, { ...grant, userCode, expiresAt: model.now() + expiresIn * 1000, interval, status: 'pending' });
  return { deviceCode, userCode, interval, expiresIn };
}

/** The unexpired device code a person typed on the device page. */
export function findUserCode(model: Model, userCode: string | undefined): DeviceCode | undefined {
  return [...model.deviceCodes.values()].find((d) => d.userCode === userCode && d.expiresAt > model.now());
}

/** Approves or denies a pending device code by its user code; false when there is none. */
export function decideDevice(model: Model, userCode: string, allow: boolean): boolean {
  const entry = [...model.deviceCodes.values()].find((d) => d.userCode === userCode && d.status === 'pending');
  if (!entry || entry.expiresAt <= model.now()) return false;
  entry.status = allow ? 'approved' : 'denied';
  return true;
}

/** A device-code poll: the tokens, or why not (each answered as the model's reading of the errors says). */
export function pollDevice(model: Model, code: string, clientId: string): TokenAnswer | 'invalid' | 'expired' | 'slow_down' | 'denied' | 'pending' {
  const device = model.deviceCodes.get(code);
  if (!device || device.clientId !== clientId) return 'invalid';
  const now = model.now();
  if (device.expiresAt <= now) {
    model.deviceCodes.delete(code);
    return 'expired';
  }
  const tooSoon =
    model.slowDownPending || (model.rfcDeviceErrors && device.lastPollAt !== undefined && now - device.lastPollAt < device.interval * 1000 - 50);
  model.slowDownPending = false;
  device.lastPollAt = now;
  if (tooSoon) {
    device.interval += 5;
    count(model, 'slow_down');
    return 'slow_down';
  }
  if (device.status === 'pending') return 'pending';
  model.deviceCodes.delete(code);
  return device.status === 'denied' ? 'denied' : issue(model, device);
}

export function expireDeviceCodes(model: Model): void {
  for (const device of model.deviceCodes.values()) device.expiresAt = 0;
}

// What the server plays and records.

/** The failure to play for a request to `path` instead of an answer, counting it off. */
export function takeFailure(model: Model, path: string): FailureMode | undefined {
  const failure = model.failures.get(path);
  if (!failure || failure.times <= 0) return undefined;
  failure.times -= 1;
  return failure.mode;
}

export function logRequest(model: Model, entry: LoggedRequest): void {
  if (model.requests.length >= MAX_LOGGED_REQUESTS) model.requests.shift();
  model.requests.push(entry);
}
