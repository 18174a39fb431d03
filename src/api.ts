// The Node API: getToken, getHeaders, getIamToken, getCredentials, listProfiles, login and loginWithToken
// for programs. The same code paths as the commands (token/current.ts, token/for-service.ts, token/iam.ts,
// commands/login.ts) over a Context that never prints and never asks.
import { createApiContext, type ApiContextOptions, type Context } from './context.js';
import { currentToken, requireRecord } from './token/current.js';
import { profileNames } from './store/read.js';
import { CancelledError, UserError } from './errors.js';
import { PROFILE_PATTERN } from './settings.js';
import { SERVICE_NAMES, isServiceName, type ServiceName } from './services.js';
import type { TokenRecord } from './token/record.js';
import type { LoginOptions as CommandLoginOptions } from './login/options.js';

export type { DeviceCodePrompt } from './login/options.js';
export type { TokenRecord } from './token/record.js';
export type { Env } from './settings.js';
export type { ServiceName } from './services.js';

/** What every function takes. All optional: the defaults are the CLI's. */
export interface Options {
  /** The stored login to use: default YANDEX_TOKEN_PROFILE from `env`, else "default". */
  profile?: string;
  /** The environment to read settings from (YANDEX_TOKEN, YANDEX_OAUTH_URL, HOME, …); default process.env. */
  env?: ApiContextOptions['env'];
  /** The folder holding config.json, instead of the one `env` gives (YANDEX_TOKEN_CONFIG_DIR, XDG_CONFIG_HOME). */
  configDir?: string;
  /** Aborting it stops a refresh or a login with CancelledError; nothing half-done is stored. */
  signal?: AbortSignal;
  /** Used for every request to Yandex instead of node:http(s) (a proxy agent, a test double). */
  fetch?: typeof fetch;
  /**
   * Called with what the CLI would print as a warning, e.g. that a refresh ahead of expiry failed and the
   * still-valid token was returned, or, once a day per profile (shared with print), that the token expires
   * within 14 days and will not be renewed. Nothing is ever written to stdout or stderr.
   */
  onWarning?: (message: string) => void;
}

export interface GetTokenOptions extends Options {
  /** Refresh now, whatever the expiry, as `yandex-token refresh` does (e.g. after an API answered 401). */
  forceRefresh?: boolean;
}

/** A stored login, as getCredentials and login return it. */
export interface Credentials extends TokenRecord {
  profile: string;
}

/** What login() shares with `yandex-token login`: the same options, documented once (src/login/options.ts). */
type SharedLoginOptions = Pick<
  CommandLoginOptions,
  'port' | 'redirectUri' | 'scope' | 'optionalScope' | 'loginHint' | 'forceConfirm' | 'deviceId' | 'deviceName' | 'timeoutSeconds' | 'onDeviceCode'
>;

export interface LoginOptions extends Options, Required<Pick<CommandLoginOptions, 'clientId' | 'clientSecret'>>, SharedLoginOptions {
  /**
   * "loopback" (default): a listener on 127.0.0.1 catches Yandex's redirect; register its Redirect URI in
   * the app. "device": the person enters a short code at Yandex on any device; see onDeviceCode.
   */
  mode?: 'loopback' | 'device';
  /**
   * How the person gets to Yandex: true (default) opens the system's browser (honouring BROWSER), false
   * opens nothing, a function is called with the URL instead (show it in your own UI; it is not awaited,
   * and a rejection goes to onWarning). In device mode the URL is the page where the code is entered.
   */
  openBrowser?: boolean | ((url: string) => unknown);
  /** Called with each line the CLI would print to the person (the URL, what it waits for, who logged in). */
  onMessage?: (line: string) => void;
}

function profileOf(options: Options, ctx: Context): string {
  const profile = options.profile ?? ctx.settings.profile;
  if (typeof profile !== 'string' || !PROFILE_PATTERN.test(profile)) {
    throw new UserError(
      `The profile "${String(profile)}" is not a profile name: 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
  return profile;
}

/** Runs one API call: every failure a UserError subclass, a caller's abort a CancelledError. */
async function run<T>(options: Options, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof UserError) && options.signal?.aborted) throw new CancelledError();
    throw error;
  }
}

/**
 * A valid access token for the profile: renewed first when it is due (90 days after it was obtained or
 * last renewed, or at three quarters of its lifetime) or has expired, under the same cross-process lock as
 * `yandex-token print`, and stored. YANDEX_TOKEN in `env` wins, as it
 * does for print: it is returned and nothing is read.
 *
 * Throws NotLoggedInError when nothing is stored or the token can no longer be refreshed (its `cause` is
 * the OAuthError when Yandex refused, e.g. code "invalid_grant"), NetworkError when Yandex could not be
 * reached, ConfigError when the config file is unreadable; all of them are UserErrors.
 */
export function getToken(options: GetTokenOptions = {}): Promise<string> {
  return run(options, async () => {
    const ctx = createApiContext(options);
    const profile = profileOf(options, ctx);
    return (await currentToken(ctx, profile, { force: options.forceRefresh })).token;
  });
}

export interface GetHeadersOptions extends Options {
  /** The service: "direct", "tracker", "wiki", "360", "disk", "metrica" or "cloud". */
  service: ServiceName;
}

/**
 * Every header `service` needs, as `yandex-token print --header --for SERVICE` writes them: Authorization
 * (OAuth, or Bearer for Direct) with the token getToken would return, and the service's own from the
 * profile's settings (Direct's Client-Login, Tracker's X-Org-ID or X-Cloud-Org-ID). A setting the service
 * needs that is not set is a UserError naming the command that sets it.
 */
export function getHeaders(options: GetHeadersOptions): Promise<Record<string, string>> {
  return run(options, async () => {
    if (typeof options.service !== 'string' || !isServiceName(options.service)) {
      throw new UserError(`getHeaders() needs service: one of ${SERVICE_NAMES.join(', ')}.`);
    }
    const ctx = createApiContext(options);
    const profile = profileOf(options, ctx);
    const { serviceCredentials } = await import('./token/for-service.js');
    return (await serviceCredentials(ctx, profile, options.service)).headers;
  });
}

/**
 * A Yandex Cloud IAM token for the profile's OAuth token, as `yandex-token print --iam` prints it: the
 * cached one while it is less than an hour old and has ten minutes of life left, else a new one got under
 * the same lock (any number of processes make one exchange) and cached. With YANDEX_TOKEN in `env`, that
 * token is exchanged each time and nothing is stored. `forceRefresh: true` gets a new one whatever the
 * cache holds (after a Cloud API answered 401 to it).
 *
 * Throws NotLoggedInError when Yandex Cloud refuses the OAuth token (or there is none), NetworkError when
 * it could not be reached and no cached token still works, ConfigError for the config file.
 */
export function getIamToken(options: GetTokenOptions = {}): Promise<string> {
  return run(options, async () => {
    const ctx = createApiContext(options);
    const profile = profileOf(options, ctx);
    const iam = await import('./token/iam.js');
    return (await (options.forceRefresh ? iam.renewIamToken : iam.currentIamToken)(ctx, profile)).token;
  });
}

/** The profile's stored login as it is (not refreshed, not checked online). NotLoggedInError when none. */
export function getCredentials(options: Options = {}): Promise<Credentials> {
  return run(options, async () => {
    const ctx = createApiContext(options);
    const profile = profileOf(options, ctx);
    return { ...requireRecord(ctx.store, profile), profile };
  });
}

/** The names of the stored profiles, "default" first. An empty array when nothing is stored. */
export function listProfiles(options: Omit<Options, 'profile'> = {}): Promise<string[]> {
  return run(options, async () => profileNames(createApiContext(options).store.read()));
}

/**
 * Logs in as `yandex-token login` does (the loopback listener with PKCE, or the device code), stores the
 * token under the profile, and returns it. Nothing is asked and nothing printed: the URL goes to
 * openBrowser, the device code to onDeviceCode, progress to onMessage.
 *
 * Throws OAuthError when Yandex refused (code "access_denied" when the person declined, "invalid_client"
 * for a wrong client ID or secret, …), UserError for a timeout or a port in use, CancelledError on abort.
 */
export function login(options: LoginOptions): Promise<Credentials> {
  return run(options, async () => {
    for (const name of ['clientId', 'clientSecret'] as const) {
      if (typeof options[name] !== 'string' || options[name].trim() === '') {
        throw new UserError(`login() needs ${name}: the app's ${name === 'clientId' ? 'ClientID' : 'Client secret'} from https://oauth.yandex.ru.`);
      }
    }
    if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 1 && options.port <= 65535)) {
      throw new UserError(`login() port must be a whole number from 1 to 65535, not ${String(options.port)}.`);
    }
    if (options.timeoutSeconds !== undefined && !(typeof options.timeoutSeconds === 'number' && options.timeoutSeconds > 0)) {
      throw new UserError(`login() timeoutSeconds must be a positive number, not ${String(options.timeoutSeconds)}.`);
    }
    const mode = options.mode ?? 'loopback';
    if (mode !== 'loopback' && mode !== 'device') {
      throw new UserError(`login() mode must be "loopback" or "device", not "${String(mode)}".`);
    }
    const ctx = createApiContext(options);
    const profile = profileOf(options, ctx);
    const { login: runLogin } = await import('./commands/login.js');
    const record = await runLogin(
      {
        profile,
        clientId: options.clientId.trim(),
        clientSecret: options.clientSecret.trim(),
        port: options.port,
        redirectUri: options.redirectUri,
        scope: options.scope,
        optionalScope: options.optionalScope,
        loginHint: options.loginHint,
        forceConfirm: options.forceConfirm,
        deviceId: options.deviceId,
        deviceName: options.deviceName,
        browser: options.openBrowser !== false,
        timeoutSeconds: options.timeoutSeconds,
        device: mode === 'device',
        onDeviceCode: options.onDeviceCode,
      },
      ctx,
    );
    // Only `--device --no-wait` stores nothing, and the API never asks for it.
    if (!record) throw new Error('login ended without storing a token');
    return { ...record, profile };
  });
}

export interface LoginWithTokenOptions extends Options {
  /**
   * A token you already have: the token itself, the address of Yandex's verification_code page carrying
   * #access_token=…, or the JSON a token endpoint returned (its refresh token is not kept).
   */
  token: string;
  /** Called with each line the CLI would print to the person (when it expires, who logged in). */
  onMessage?: (line: string) => void;
}

/**
 * Stores a token you already have, as `yandex-token login --with-token` does: checked once at Yandex's
 * /info, stored under the profile with its login, app and expiry (when given), and no refresh token, so
 * it is used until it expires. Throws NotLoggedInError when Yandex rejects it (nothing is stored),
 * UserError when it is not a token, NetworkError when Yandex could not be reached.
 */
export function loginWithToken(options: LoginWithTokenOptions): Promise<Credentials> {
  return run(options, async () => {
    if (typeof options.token !== 'string') throw new UserError('loginWithToken() needs token: the token, the verification_code page\'s address, or token JSON.');
    const base = createApiContext(options);
    const profile = profileOf(options, base);
    // The one answer the flow asks for is the token given here.
    const ctx: Context = { ...base, ask: async () => options.token };
    const { login: runLogin } = await import('./commands/login.js');
    const record = await runLogin({ profile, withToken: true }, ctx);
    if (!record) throw new Error('login ended without storing a token');
    return { ...record, profile };
  });
}
