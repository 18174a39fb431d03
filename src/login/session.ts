// What every way of logging in shares: the app (flag -> environment -> prompt), the device the token is
// bound to, the authorize URL of the code flows, Yandex's error= answer, the waits, and storing the login.
import { hostname } from 'node:os';
import type { Context } from '../context.js';
import { OAuthError, untrusted } from '../errors.js';
import { DEFAULT_LOGIN_TIMEOUT_SECONDS } from '../settings.js';
import { dropIamToken, type ConfigData } from '../store/read.js';
import { recordFromResponse, type RecordSource, type TokenRecord, type TokenResponse } from '../token/record.js';
import { nonDefaultEndpoints } from '../token/server.js';
import { authorizeUrl, createDeviceId, createPkce, createState, defaultDeviceName, fetchAccountInfo, type AccountInfo, type YandexApi } from '../yandex/oauth.js';
import type { ProfileLoginOptions } from './options.js';
import type { Clock } from '../time.js';

/** What every way of logging in shares: who the app is, how this machine is named, and how to store. */
export interface LoginSession {
  options: ProfileLoginOptions;
  clientId: string;
  clientSecret: string;
  deviceId: string;
  deviceName: string;
  timeoutSeconds: number;
  /** Stores the token under the profile, as every mode does, and returns what it stored. */
  save(token: TokenResponse): Promise<TokenRecord>;
}

/** The app's ClientID and secret: the option, else the environment, else asked (hidden) on a terminal. */
export async function resolveClient(options: ProfileLoginOptions, ctx: Context): Promise<{ clientId: string; clientSecret: string }> {
  const clientId =
    options.clientId ??
    ctx.settings.clientId ??
    (await ctx.ask({
      message: 'Client ID of your Yandex app',
      instead: '--client-id or set YANDEX_CLIENT_ID',
      hint: 'Your Yandex app\'s ClientID is on its page at https://oauth.yandex.ru (register one at https://oauth.yandex.ru/client/new), or try `yandex-token login --demo`, which needs none.',
    }));
  const clientSecret =
    options.clientSecret ??
    ctx.settings.clientSecret ??
    (await ctx.ask({ message: 'Client secret (hidden)', secret: true, instead: '--client-secret or set YANDEX_CLIENT_SECRET' }));
  return { clientId, clientSecret };
}

/** The prologue every mode shares: credentials and the device this token is bound to. */
export async function startSession(options: ProfileLoginOptions, ctx: Context): Promise<LoginSession> {
  // A folder we cannot write is said before the prompts and the browser, not after the consent.
  prepareStore(ctx);
  const { clientId, clientSecret } = await resolveClient(options, ctx);
  const deviceId = options.deviceId ?? ctx.store.read().deviceIds[options.profile] ?? createDeviceId();
  const deviceName = options.deviceName ?? defaultDeviceName(hostname());
  return {
    options,
    clientId,
    clientSecret,
    deviceId,
    deviceName,
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS,
    save: (token) =>
      saveLogin(ctx, ctx.api, options.profile, token, { clientId, clientSecret, deviceId, deviceName, requestedScope: options.scope, demo: options.demo }),
  };
}

/**
 * Before anything is asked or anyone is sent to Yandex: a folder that cannot be written is said now, not
 * after the consent or the typed token, and the writer (conf) loads meanwhile.
 */
export function prepareStore(ctx: Context): void {
  ctx.store.assertWritable();
  ctx.store.preloadWriter();
}

/**
 * Stores a token under the profile, as every way of logging in does, and returns the record. The account
 * is looked up at /info (best effort) unless the caller already has it. A login bound to a device keeps
 * its device id for the profile's next login. `alsoChange` runs inside the same locked write (--poll drops
 * the pending login there).
 */
export async function saveLogin(
  ctx: Context,
  /** The server the token came from: ctx.api, or the one a pending device login was started with. */
  api: YandexApi,
  profile: string,
  token: TokenResponse,
  source: RecordSource,
  options: { account?: AccountInfo; alsoChange?: (data: ConfigData) => void } = {},
): Promise<TokenRecord> {
  const account = options.account ?? (await fetchAccountInfo(api, token.access_token).catch(() => undefined));
  // The account lookup is best effort, but a Ctrl-C or SIGTERM during it still means: store nothing.
  ctx.signal.throwIfAborted();
  // Endpoints other than Yandex's (an emulator) are kept, so that later commands ask the same server.
  const endpoints = nonDefaultEndpoints(api);
  const record = recordFromResponse(token, { ...source, ...endpoints, login: account?.login }, ctx.now());
  const { deviceId } = source;
  await ctx.store.update((data) => {
    data.profiles[profile] = record;
    dropIamToken(data, profile);
    if (deviceId !== undefined) data.deviceIds[profile] = deviceId;
    options.alsoChange?.(data);
  });
  return record;
}

/**
 * The authorize URL of the code flows (loopback and paste): a fresh state and PKCE pair, this session's
 * app, device and options, and the given redirect URI.
 */
export function startAuthorization(session: LoginSession, ctx: Context, redirectUri: string): { url: string; state: string; verifier: string } {
  const { options } = session;
  const state = createState();
  const pkce = createPkce();
  const url = authorizeUrl(ctx.api.oauthUrl, {
    clientId: session.clientId,
    redirectUri,
    state,
    codeChallenge: pkce.challenge,
    deviceId: session.deviceId,
    deviceName: session.deviceName,
    scope: options.scope,
    optionalScope: options.optionalScope,
    loginHint: options.loginHint,
    forceConfirm: options.forceConfirm,
  });
  return { url, state, verifier: pkce.verifier };
}

/**
 * Yandex's answer of error= (and error_description=) instead of a code, as the loopback redirect or a
 * pasted address carries it: an OAuthError, so that a program using the Node API can tell access_denied
 * from the rest. `again` is how to start over ("run `yandex-token login` again").
 */
export function refusedError(params: { error: string; description?: string }, again: string): OAuthError {
  // Whoever reaches the listener with our state, or whatever was pasted, wrote these: keep escape
  // sequences off the terminal.
  const error = untrusted(params.error, 60);
  const description = params.description === undefined ? undefined : untrusted(params.description);
  const message =
    params.error === 'access_denied'
      ? `Access was declined in the browser. Nothing was stored; ${again} to retry.`
      : `Yandex returned ${error}${description ? ` (${description})` : ''} instead of a code. Check the app at https://oauth.yandex.ru and ${again}.`;
  return new OAuthError(message, error, description);
}

/**
 * The parameters of a pasted address, or of its query or fragment alone: everything after the first ? or
 * #, with a # inside read as one more & (Yandex's pages carry code= in the query, access_token= in the
 * fragment).
 */
export function addressParams(text: string): URLSearchParams {
  const start = text.search(/[?#]/);
  return new URLSearchParams(text.slice(start + 1).replace(/#/g, '&'));
}

export function describeTimeout(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

/** The promise, or onTimeout()'s error once `seconds` have passed. */
export function waitFor<T>(clock: Clock, promise: Promise<T>, seconds: number, onTimeout: () => Error): Promise<T> {
  const done = new AbortController();
  const timeout = clock.sleep(seconds * 1000, done.signal).then(() => Promise.reject(onTimeout()));
  // The losing side of the race must not end as an unhandled rejection.
  timeout.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => done.abort());
}
