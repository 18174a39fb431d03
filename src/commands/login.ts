// `yandex-token login`: picks the way in (loopback listener, --device, --no-localhost), runs what they
// share (client, device id, storing the record) and the loopback authorization-code flow with PKCE.
import type { Context } from '../context.js';
import { recordFromResponse } from '../credentials.js';
import { OAuthError, UserError, untrusted } from '../errors.js';
import { defaultRedirectUri, listenForCallback, parseRedirectUri, type CallbackParams, type RedirectTarget } from '../loopback.js';
import {
  authorizeUrl,
  createDeviceId,
  createPkce,
  createState,
  defaultDeviceName,
  exchangeCode,
  fetchAccountInfo,
  type TokenResponse,
} from '../oauth.js';
import { DEFAULT_LOGIN_TIMEOUT_SECONDS, DEFAULT_PORT } from '../settings.js';
import type { TokenRecord } from '../store.js';
import { loginWithDevice } from './login-device.js';
import { loginByPaste } from './login-paste.js';

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
  /** Stores the token under the profile, as every mode does, and returns who logged in. */
  save(token: TokenResponse): Promise<string>;
  /** What save() stored. */
  record?: TokenRecord;
}

type LoginMode = (session: LoginSession, ctx: Context) => Promise<string>;

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

/** Logs in by the way the options pick, stores the token under the profile, and returns what was stored. */
export async function login(options: LoginOptions, ctx: Context): Promise<TokenRecord> {
  const mode = chooseMode(options);
  const session = await startSession(options, ctx);
  const who = await mode(session, ctx);
  if (!session.record) throw new Error('the login ended without storing a token');
  ctx.err.line(`Logged in as ${ctx.err.bold(who)}. Token saved to ${ctx.store.path}.`);
  return session.record;
}

/** Checks the flags fit together (before anything is asked or started) and picks the flow. */
function chooseMode(options: LoginOptions): LoginMode {
  const headless = options.device ? '--device' : options.localhost === false ? '--no-localhost' : undefined;
  if (options.device && options.localhost === false) {
    throw new UserError('Pass either --device or --no-localhost, not both: one logs in by a code typed at Yandex, the other by a code pasted here.');
  }
  if (headless) {
    const loopbackOnly = [options.port !== undefined && '--port', options.redirectUri !== undefined && '--redirect-uri'].filter(Boolean);
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
      return loginWithDevice;
    }
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
  const { clientId, clientSecret } = await resolveClient(options, ctx);
  const deviceId = options.deviceId ?? ctx.store.read().deviceIds[options.profile] ?? createDeviceId();
  const deviceName = options.deviceName ?? defaultDeviceName(ctx.settings.hostname);
  const session: LoginSession = {
    options,
    clientId,
    clientSecret,
    deviceId,
    deviceName,
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS,
    async save(token) {
      const account = await fetchAccountInfo(ctx.api, token.access_token).catch(() => undefined);
      // The account lookup is best effort, but a Ctrl-C or SIGTERM during it still means: store nothing.
      ctx.signal.throwIfAborted();
      const record = recordFromResponse(
        token,
        { clientId, clientSecret, login: account?.login, deviceId, deviceName, requestedScope: options.scope },
        ctx.now(),
      );
      await ctx.store.update((data) => {
        data.profiles[options.profile] = record;
        data.deviceIds[options.profile] = deviceId;
      });
      session.record = record;
      return record.login ?? 'your Yandex account';
    },
  };
  return session;
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

async function loginWithLoopback(target: RedirectTarget, session: LoginSession, ctx: Context): Promise<string> {
  const { options, clientId, clientSecret, deviceId, deviceName, timeoutSeconds } = session;
  const state = createState();
  const pkce = createPkce();

  const listener = await listenForCallback({ target, state, signal: ctx.signal });
  try {
    const url = authorizeUrl(ctx.settings.oauthUrl, {
      clientId,
      redirectUri: target.uri,
      state,
      codeChallenge: pkce.challenge,
      deviceId,
      deviceName,
      scope: options.scope,
      optionalScope: options.optionalScope,
      loginHint: options.loginHint,
      forceConfirm: options.forceConfirm,
    });
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

    const params: CallbackParams = await waitFor(
      listener.callback,
      timeoutSeconds,
      () =>
        new UserError(
          `No answer from the browser within ${describeTimeout(timeoutSeconds)}. Run \`yandex-token login\` again; if Yandex showed an error page, check that ${target.uri} is registered in the app (or use --device).`,
        ),
    );

    if ('error' in params) {
      const message = deniedMessage(params);
      await listener.finish({ ok: false, title: 'Login declined', message: `${message.split('. ')[0]}. You can close this tab.` });
      // An OAuthError, so that a program using the Node API can tell access_denied from the rest.
      throw new OAuthError(message, untrusted(params.error, 60), params.description === undefined ? undefined : untrusted(params.description));
    }

    try {
      const token = await exchangeCode(ctx.api, { code: params.code, codeVerifier: pkce.verifier, clientId, clientSecret, deviceId, deviceName });
      const who = await session.save(token);
      await listener.finish({ ok: true, title: 'Logged in', message: `yandex-token is logged in as ${who}. You can close this tab and return to the terminal.` });
      return who;
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
