// `yandex-token login`: picks the way in (loopback listener, --device, --no-localhost), runs what they
// share (client, device id, storing the record) and the loopback authorization-code flow with PKCE.
import { hostname } from 'node:os';
import type { Context } from '../context.js';
import { nonDefaultEndpoints } from '../token/server.js';
import { recordFromResponse, type RecordSource } from '../token/record.js';
import { OAuthError, UserError, untrusted } from '../errors.js';
import { defaultRedirectUri, listenForCallback, parseRedirectUri, type CallbackParams, type RedirectTarget } from '../login/listener.js';
import { authorizeUrl, createDeviceId, createPkce, createState, defaultDeviceName, exchangeCode, fetchAccountInfo, type TokenResponse, type YandexApi } from '../yandex/oauth.js';
import { DEFAULT_LOGIN_TIMEOUT_SECONDS, DEFAULT_PORT } from '../settings.js';
import type { ConfigData } from '../store/read.js';
import type { TokenRecord } from '../token/record.js';
import { loginWithDevice, pollDeviceLogin, startDeviceLogin } from '../login/device-flow.js';
import { checkPasteRedirectUri, loginByPaste } from '../login/paste-flow.js';

export interface LoginOptions {
  profile: string;
  clientId?: string;
  clientSecret?: string;
  port?: number;
  redirectUri?: string;
  scope?: string;
  optionalScope?: string;
  loginHint?: string;
  forceConfirm?: boolean;
  deviceId?: string;
  deviceName?: string;
  /** false with --no-browser: only print the URL. */
  browser?: boolean;
  timeoutSeconds?: number;
  /** --device: Yandex's device-code flow, no listener. */
  device?: boolean;
  /** false with --no-localhost: no listener; the person pastes the code from Yandex's verification page. */
  localhost?: boolean;
  /** With --device, called with what the person must enter and where (the Node API shows it its own way). */
  onDeviceCode?: (code: DeviceCodePrompt) => void;
  /** false with --device --no-wait: show the code, keep it pending in the config, and return at once. */
  wait?: boolean;
  /** --device --poll: continue the pending device login: poll once, or for timeoutSeconds when given. */
  poll?: boolean;
  /** --json with --no-wait: the code as JSON on stdout. */
  json?: boolean;
  /**
   * Milliseconds of waiting for the browser before the hint about --device and --no-localhost; default
   * from settings. Not a flag: tests set it rather than wait.
   */
  hintAfterMs?: number;
  /** Set by `login --demo` (not a flag of login): the record is marked as the built-in emulator's. */
  demo?: boolean;
}

/** The device-code login's instruction to the person: open this page and enter this code. */
export interface DeviceCodePrompt {
  userCode: string;
  verificationUrl: string;
  /** Seconds the code lives. */
  expiresIn: number;
}

/** What every way of logging in shares: who the app is, how this machine is named, and how to store. */
export interface LoginSession {
  options: LoginOptions;
  clientId: string;
  clientSecret: string;
  deviceId: string;
  deviceName: string;
  timeoutSeconds: number;
  /** Stores the token under the profile, as every mode does, and returns what it stored. */
  save(token: TokenResponse): Promise<TokenRecord>;
}

/**
 * The authorize URL of the code flows (loopback and paste): a fresh state and PKCE pair, this session's
 * app, device and options, and the given redirect URI.
 */
export function startAuthorization(session: LoginSession, ctx: Context, redirectUri: string): { url: string; state: string; verifier: string } {
  const { options } = session;
  const state = createState();
  const pkce = createPkce();
  const url = authorizeUrl(ctx.settings.oauthUrl, {
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

/** Who logged in, for messages: the account's login when Yandex told us. */
export function loginName(record: TokenRecord): string {
  return record.login ?? 'your Yandex account';
}

/** Runs one way of logging in; returns what was stored, or undefined when nothing was stored yet (--no-wait). */
type LoginMode = (session: LoginSession, ctx: Context) => Promise<TokenRecord | undefined>;

export async function resolveClient(options: LoginOptions, ctx: Context): Promise<{ clientId: string; clientSecret: string }> {
  const clientId =
    options.clientId ??
    ctx.settings.clientId ??
    (await ctx.ask({ message: 'Client ID of your Yandex app', instead: '--client-id or set YANDEX_CLIENT_ID' }));
  const clientSecret =
    options.clientSecret ??
    ctx.settings.clientSecret ??
    (await ctx.ask({ message: 'Client secret (hidden)', secret: true, instead: '--client-secret or set YANDEX_CLIENT_SECRET' }));
  return { clientId, clientSecret };
}

export function describeTimeout(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

export function waitFor<T>(promise: Promise<T>, seconds: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function deniedMessage(params: { error: string; description?: string }): string {
  if (params.error === 'access_denied') return 'Access was declined in the browser. Nothing was stored; run `yandex-token login` again to retry.';
  // Whoever reaches the listener with our state writes these: keep escape sequences off the terminal.
  const error = untrusted(params.error, 60);
  const description = params.description ? untrusted(params.description) : '';
  return `Yandex returned ${error}${description ? ` (${description})` : ''} instead of a code. Check the app at https://oauth.yandex.ru and run \`yandex-token login\` again.`;
}

/** Logs in by the way the options pick, stores the token under the profile, and returns what was stored
 * (undefined only for --device --no-wait, which stores a pending login instead). */
export async function login(options: LoginOptions, ctx: Context): Promise<TokenRecord | undefined> {
  const mode = chooseMode(options);
  // --poll continues a login whose app, secret and device were settled when it started.
  const record = options.poll ? await pollDeviceLogin(options, ctx) : await mode(await startSession(options, ctx), ctx);
  if (record) ctx.err.line(`Logged in as ${ctx.err.bold(loginName(record))}. Token saved to ${ctx.store.path}.`);
  return record;
}

/** The flags of the two-step device login (--no-wait, then --poll) fit together, or a sentence that says why not. */
function checkTwoStep(options: LoginOptions): void {
  const noWait = options.wait === false;
  if ((noWait || options.poll) && !options.device) {
    throw new UserError(`${noWait ? '--no-wait' : '--poll'} is for the two-step device login: pass it with --device (\`login --device --no-wait\`, later \`login --device --poll\`).`);
  }
  if (noWait && options.poll) {
    throw new UserError('Pass --no-wait or --poll, not both: --no-wait starts a device login and returns, --poll finishes it.');
  }
  if (options.json && !noWait) {
    throw new UserError('--json goes with --device --no-wait, which prints the code as JSON; the other logins print nothing on stdout.');
  }
  if (options.poll) {
    const fixed = [
      options.clientId !== undefined && '--client-id',
      options.clientSecret !== undefined && '--client-secret',
      options.scope !== undefined && '--scope',
      options.optionalScope !== undefined && '--optional-scope',
      options.deviceId !== undefined && '--device-id',
      options.deviceName !== undefined && '--device-name',
    ].filter(Boolean);
    if (fixed.length > 0) {
      throw new UserError(
        `${fixed.join(', ')} cannot be passed with --poll: the pending login keeps what \`login --device --no-wait\` was given. Drop ${fixed.length > 1 ? 'them' : 'it'}, or start again with --no-wait.`,
      );
    }
  }
}

/** Checks the flags fit together (before anything is asked or started) and picks the flow. */
function chooseMode(options: LoginOptions): LoginMode {
  checkTwoStep(options);
  const headless = options.device ? '--device' : options.localhost === false ? '--no-localhost' : undefined;
  if (options.device && options.localhost === false) {
    throw new UserError('Pass either --device or --no-localhost, not both: one logs in by a code typed at Yandex, the other by a code pasted here.');
  }
  if (headless) {
    // --no-localhost takes --redirect-uri: the https page the app registered to show the code.
    const loopbackOnly = [options.port !== undefined && '--port', options.device && options.redirectUri !== undefined && '--redirect-uri'].filter(Boolean);
    if (loopbackOnly.length > 0) {
      throw new UserError(
        `${loopbackOnly.join(' and ')} ${loopbackOnly.length > 1 ? 'are' : 'is'} for the loopback listener, which ${headless} does not use: drop ${loopbackOnly.length > 1 ? 'them' : 'it'}, or drop ${headless}.`,
      );
    }
    if (options.device) {
      const authorizeOnly = [options.loginHint !== undefined && '--login-hint', options.forceConfirm && '--force-confirm'].filter(Boolean);
      if (authorizeOnly.length > 0) {
        throw new UserError(
          `${authorizeOnly.join(' and ')} cannot be passed with --device: the account is whichever is signed in where the code is entered. Drop ${authorizeOnly.length > 1 ? 'them' : 'it'}, or use \`login --no-localhost\`.`,
        );
      }
      return options.wait === false ? startDeviceLogin : loginWithDevice;
    }
    if (options.redirectUri !== undefined) checkPasteRedirectUri(options.redirectUri);
    return loginByPaste;
  }
  if (options.port !== undefined && options.redirectUri !== undefined) {
    throw new UserError('Pass either --port or --redirect-uri, not both: the redirect URI already names its port.');
  }
  const target = parseRedirectUri(options.redirectUri ?? defaultRedirectUri(options.port ?? DEFAULT_PORT));
  return (session, ctx) => loginWithLoopback(target, session, ctx);
}

/** The prologue every mode shares: credentials and the device this token is bound to. */
async function startSession(options: LoginOptions, ctx: Context): Promise<LoginSession> {
  // A folder we cannot write is said before the prompts and the browser, not after the consent.
  ctx.store.assertWritable();
  ctx.store.preloadWriter();
  const { clientId, clientSecret } = await resolveClient(options, ctx);
  const deviceId = options.deviceId ?? ctx.store.read().deviceIds[options.profile] ?? createDeviceId();
  const deviceName = options.deviceName ?? defaultDeviceName(hostname());
  const session: LoginSession = {
    options,
    clientId,
    clientSecret,
    deviceId,
    deviceName,
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS,
    save: (token) =>
      saveLogin(ctx, ctx.api, options.profile, token, { clientId, clientSecret, deviceId, deviceName, requestedScope: options.scope, demo: options.demo }),
  };
  return session;
}

/**
 * Stores a token under the profile, as every way of logging in does, and returns the record. `alsoChange`
 * runs inside the same locked write (--poll drops the pending login there).
 */
export async function saveLogin(
  ctx: Context,
  /** The server the token came from: ctx.api, or the one a pending device login was started with. */
  api: YandexApi,
  profile: string,
  token: TokenResponse,
  source: RecordSource & { deviceId: string },
  alsoChange?: (data: ConfigData) => void,
): Promise<TokenRecord> {
  const account = await fetchAccountInfo(api, token.access_token).catch(() => undefined);
  // The account lookup is best effort, but a Ctrl-C or SIGTERM during it still means: store nothing.
  ctx.signal.throwIfAborted();
  // Endpoints other than Yandex's (an emulator) are kept, so that later commands ask the same server.
  const endpoints = nonDefaultEndpoints(api);
  const record = recordFromResponse(token, { ...source, ...endpoints, login: account?.login }, ctx.now());
  await ctx.store.update((data) => {
    data.profiles[profile] = record;
    data.deviceIds[profile] = source.deviceId;
    alsoChange?.(data);
  });
  return record;
}

/**
 * Which way in fits when a browser elsewhere cannot reach this machine's loopback: said before the wait.
 * Over SSH a port forward keeps this login; without a display only the two listener-less modes help.
 */
function remoteAdvice(target: RedirectTarget, ctx: Context): string[] {
  const { ssh, graphical } = ctx.settings.display;
  if (graphical && !ssh) return [];
  const forwardTo = target.hosts[0] === '::1' ? '[::1]' : '127.0.0.1';
  const verification = `${ctx.settings.oauthUrl}/verification_code`;
  const headless = [
    '  - or press Ctrl-C and run `yandex-token login --device`: type a code at Yandex on any device (a phone will do); nothing to register;',
    `  - or press Ctrl-C and run \`yandex-token login --no-localhost\`: paste back the code Yandex shows; the app needs ${verification} as a Redirect URI (apps "for API access" have it).`,
  ];
  if (ssh) {
    return [
      `This is an SSH session: a browser on your own computer cannot reach ${target.uri} on this host. What fits:`,
      `  - keep this login and forward the port: on your computer run \`ssh -N -L ${target.port}:${forwardTo}:${target.port} <this host>\`, then open the URL there;`,
      ...headless,
    ];
  }
  return [
    `There is no display here (DISPLAY and WAYLAND_DISPLAY are unset), and a browser on another machine cannot reach ${target.uri}. What fits:`,
    '  - open the URL in a browser on this machine, if it has one;',
    ...headless,
  ];
}

async function loginWithLoopback(target: RedirectTarget, session: LoginSession, ctx: Context): Promise<TokenRecord> {
  const { options, clientId, clientSecret, deviceId, deviceName, timeoutSeconds } = session;
  const { url, state, verifier } = startAuthorization(session, ctx, target.uri);
  const listener = await listenForCallback({
    target,
    state,
    signal: ctx.signal,
    // Said at once: if this is Yandex's answer, the person should not sit out the whole timeout.
    onStrayError: ({ error }) => {
      // Any web page can send one, so only a word shaped like an OAuth error code is repeated, and no description.
      const said = /^[a-z_]{1,40}$/.test(error) ? error : 'something that is not an OAuth error code';
      ctx.err.line(
        `A redirect to ${target.uri} reported ${said}, but without this login's state, so it cannot end the login (any web page could send one); the wait goes on. If Yandex sent it in answer to this login, press Ctrl-C to end the wait.`,
      );
    },
  });
  try {
    const { err } = ctx;
    err.line('Open this URL in a browser to log in to Yandex:');
    err.line();
    err.line(`  ${url}`);
    err.line();
    const advice = remoteAdvice(target, ctx);
    if (advice.length > 0) {
      for (const line of advice) err.line(line);
      err.line();
    }
    if (options.browser !== false) {
      const opened = await ctx.openBrowser(url);
      if (!opened) err.line('Could not start a browser; open the URL above yourself.');
    }
    err.line(
      `Waiting up to ${describeTimeout(timeoutSeconds)} for Yandex to redirect to ${target.uri} (Ctrl-C to abort).`,
    );
    err.line(
      err.dim(
        `If Yandex says the redirect URI does not match, register exactly ${target.uri} as a Redirect URI of the app, or, for apps created "for API access", use \`login --no-localhost\` or \`login --device\`.`,
      ),
    );

    // A wait this long usually means the redirect cannot arrive: say what else to try, once.
    const hintAfterMs = options.hintAfterMs ?? ctx.settings.browserHintMs;
    const hint =
      hintAfterMs < timeoutSeconds * 1000
        ? setTimeout(() => {
            err.line(
              `Still waiting. If the browser shows an error or nothing happens, press Ctrl-C and try \`yandex-token login --device\` or \`--no-localhost\`: apps created "for API access" only redirect to ${ctx.settings.oauthUrl}/verification_code, and a browser on another machine cannot reach ${target.uri}.`,
            );
          }, hintAfterMs)
        : undefined;
    let params: CallbackParams;
    try {
      params = await waitFor(
        listener.callback,
        timeoutSeconds,
        () =>
          new UserError(
            `No answer from the browser within ${describeTimeout(timeoutSeconds)}. Run \`yandex-token login\` again; if Yandex showed an error page, check that ${target.uri} is registered in the app (or use --device).`,
          ),
      );
    } finally {
      clearTimeout(hint);
    }

    if ('error' in params) {
      const message = deniedMessage(params);
      await listener.finish({ ok: false, title: 'Login declined', message: `${message.split('. ')[0]}. You can close this tab.` });
      // An OAuthError, so that a program using the Node API can tell access_denied from the rest.
      throw new OAuthError(message, untrusted(params.error, 60), params.description === undefined ? undefined : untrusted(params.description));
    }

    try {
      const token = await exchangeCode(ctx.api, { code: params.code, codeVerifier: verifier, redirectUri: target.uri, clientId, clientSecret, deviceId, deviceName });
      const record = await session.save(token);
      await listener.finish({ ok: true, title: 'Logged in', message: `yandex-token is logged in as ${loginName(record)}. You can close this tab and return to the terminal.` });
      return record;
    } catch (error) {
      await listener.finish({
        ok: false,
        title: 'Login failed',
        message: `${error instanceof UserError ? error.message : 'Something went wrong.'} See the terminal for details; you can close this tab.`,
      });
      throw error;
    }
  } finally {
    await listener.close();
  }
}
