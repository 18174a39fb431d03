// `yandex-token login` with the loopback listener (the default): the authorization-code flow with PKCE,
// Yandex redirecting the browser to a listener on this machine.
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import type { TokenRecord } from '../token/record.js';
import { exchangeCode } from '../yandex/oauth.js';
import { listenForCallback, type CallbackListener, type CallbackParams, type RedirectTarget } from './listener.js';
import { describeTimeout, loginName, refusedError, startAuthorization, waitFor, type LoginSession } from './session.js';

/**
 * Which way in fits when a browser elsewhere cannot reach this machine's loopback: said before the wait.
 * Over SSH a port forward keeps this login; without a display only the two listener-less modes help.
 */
function remoteAdvice(target: RedirectTarget, ctx: Context): string[] {
  const { ssh, graphical } = ctx.settings.display;
  if (graphical && !ssh) return [];
  const forwardTo = target.hosts[0] === '::1' ? '[::1]' : '127.0.0.1';
  const verification = `${ctx.api.oauthUrl}/verification_code`;
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

/** The URL, the advice that fits this machine, the browser opened, and what the wait is for. */
async function showTheWay(url: string, target: RedirectTarget, session: LoginSession, ctx: Context): Promise<void> {
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
  if (session.options.browser !== false) {
    const opened = await ctx.openBrowser(url);
    if (!opened) err.line('Could not start a browser; open the URL above yourself.');
  }
  err.line(
    `Waiting up to ${describeTimeout(session.timeoutSeconds)} for Yandex to redirect to ${target.uri} (Ctrl-C to abort).`,
  );
  err.line(
    err.dim(
      `If Yandex says the redirect URI does not match, register exactly ${target.uri} as a Redirect URI of the app, or, for apps created "for API access", use \`login --no-localhost\` or \`login --device\`.`,
    ),
  );
}

/** The redirect's query (a code or an error), once it arrives; on the way, once, what else to try. */
async function waitForRedirect(listener: CallbackListener, target: RedirectTarget, session: LoginSession, ctx: Context): Promise<CallbackParams> {
  const { timeoutSeconds } = session;
  // A wait this long usually means the redirect cannot arrive: say what else to try, once.
  const hintAfterMs = session.options.hintAfterMs ?? ctx.settings.browserHintMs;
  const hint =
    hintAfterMs < timeoutSeconds * 1000
      ? setTimeout(() => {
          ctx.err.line(
            `Still waiting. If the browser shows an error or nothing happens, press Ctrl-C and try \`yandex-token login --device\` or \`--no-localhost\`: apps created "for API access" only redirect to ${ctx.api.oauthUrl}/verification_code, and a browser on another machine cannot reach ${target.uri}.`,
          );
        }, hintAfterMs)
      : undefined;
  try {
    return await waitFor(
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
}

/** Exchanges the redirect's code and stores the token, and tells the browser tab how it went. */
async function finishLogin(params: CallbackParams, listener: CallbackListener, target: RedirectTarget, verifier: string, session: LoginSession, ctx: Context): Promise<TokenRecord> {
  if ('error' in params) {
    const error = refusedError(params, 'run `yandex-token login` again');
    await listener.finish({ ok: false, title: 'Login declined', message: `${error.message.split('. ')[0]}. You can close this tab.` });
    throw error;
  }
  const { clientId, clientSecret, deviceId, deviceName } = session;
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
}

/** The loopback login: a listener on `target`, the browser sent to Yandex, the redirect's code exchanged. */
export async function loginWithLoopback(target: RedirectTarget, session: LoginSession, ctx: Context): Promise<TokenRecord> {
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
    await showTheWay(url, target, session, ctx);
    const params = await waitForRedirect(listener, target, session, ctx);
    return await finishLogin(params, listener, target, verifier, session, ctx);
  } finally {
    await listener.close();
  }
}
