// `yandex-token login`: the loopback authorization-code flow with PKCE, ending in a stored record.
import type { Context } from '../context.js';
import { recordFromResponse } from '../credentials.js';
import { UserError, untrusted } from '../errors.js';
import { defaultRedirectUri, listenForCallback, parseRedirectUri, type CallbackParams } from '../loopback.js';
import {
  authorizeUrl,
  createDeviceId,
  createPkce,
  createState,
  defaultDeviceName,
  exchangeCode,
  fetchAccountInfo,
} from '../oauth.js';
import { DEFAULT_LOGIN_TIMEOUT_SECONDS, DEFAULT_PORT } from '../settings.js';

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
}

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

function describeTimeout(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

function waitFor<T>(promise: Promise<T>, seconds: number, onTimeout: () => Error): Promise<T> {
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

export async function login(options: LoginOptions, ctx: Context): Promise<void> {
  if (options.port !== undefined && options.redirectUri !== undefined) {
    throw new UserError('Pass either --port or --redirect-uri, not both: the redirect URI already names its port.');
  }
  const target = parseRedirectUri(options.redirectUri ?? defaultRedirectUri(options.port ?? DEFAULT_PORT));
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS;
  ctx.store.assertWritable();
  const { clientId, clientSecret } = await resolveClient(options, ctx);

  const state = createState();
  const pkce = createPkce();
  const deviceId = options.deviceId ?? ctx.store.read().deviceIds[options.profile] ?? createDeviceId();
  const deviceName = options.deviceName ?? defaultDeviceName(ctx.settings.hostname);

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
    if (!ctx.settings.display.graphical || ctx.settings.display.ssh) {
      err.line(
        `This looks like a ${ctx.settings.display.ssh ? 'remote (SSH) session' : 'machine without a display'}: a browser elsewhere cannot reach 127.0.0.1:${target.port} here.`,
      );
      err.line(
        `Forward the port from the machine with the browser (ssh -L ${target.port}:127.0.0.1:${target.port} <this host>), or press Ctrl-C and use \`yandex-token login --device\` or \`--no-localhost\`.`,
      );
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
      throw new UserError(message);
    }

    try {
      const token = await exchangeCode(ctx.api, { code: params.code, codeVerifier: pkce.verifier, clientId, clientSecret, deviceId, deviceName });
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
      const who = record.login ?? 'your Yandex account';
      await listener.finish({ ok: true, title: 'Logged in', message: `yandex-token is logged in as ${who}. You can close this tab and return to the terminal.` });
      err.line(`Logged in as ${err.bold(who)}. Token saved to ${ctx.store.path}.`);
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
