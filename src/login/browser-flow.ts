// `yandex-token login` with the loopback listener (the default): the authorization-code flow with PKCE,
// Yandex redirecting the browser to a listener on this machine.
import { isNoBrowser } from '../browser.js';
import type { Context } from '../context.js';
import { CALLBACK_PAGES } from '../page-text.js';
import { UserError } from '../errors.js';
import type { TokenRecord } from '../token/record.js';
import { exchangeCode } from '../yandex/oauth.js';
import { listenForCallback, type CallbackListener, type CallbackParams, type RedirectTarget } from './listener.js';
import { describeTimeout, refusedError, startAuthorization, waitFor, type LoginSession } from './session.js';
import { loginName } from '../messages.js';

/** How long login waits for the browser before it says what else to try. */
const BROWSER_HINT_MS = 30_000;

/**
 * Whether a browser elsewhere may be what the person uses: over SSH, or on a machine without a display,
 * unless BROWSER named a browser and it started (that one runs here, and reaches the loopback).
 */
function remoteSituation(opened: boolean, ctx: Context): 'ssh' | 'no-display' | undefined {
  const { ssh, graphical } = ctx.settings.display;
  if (opened && ctx.settings.browser) return undefined;
  return ssh ? 'ssh' : graphical ? undefined : 'no-display';
}

/** Said before the wait, on a remote machine: one line, the shortest way that fits. */
function remoteHint(situation: 'ssh' | 'no-display', target: RedirectTarget): string {
  const forwardTo = target.hosts[0] === '::1' ? '[::1]' : '127.0.0.1';
  return situation === 'ssh'
    ? `This is an SSH session: to use a browser on your computer, first run \`ssh -N -L ${target.port}:${forwardTo}:${target.port} <this host>\` there; or press Ctrl-C and run \`yandex-token login --device\`.`
    : 'There is no display here (DISPLAY and WAYLAND_DISPLAY are unset): open the URL in a browser on this machine, or press Ctrl-C and run `yandex-token login --device`.';
}

/** The longer advice, after the hint's delay: every way in that fits, and why. */
function remoteAdvice(situation: 'ssh' | 'no-display', target: RedirectTarget, ctx: Context): string[] {
  const forwardTo = target.hosts[0] === '::1' ? '[::1]' : '127.0.0.1';
  const verification = `${ctx.api.oauthUrl}/verification_code`;
  return [
    situation === 'ssh'
      ? `A browser on your own computer cannot reach ${target.uri} on this host. What fits:`
      : `A browser on another machine cannot reach ${target.uri}. What fits:`,
    situation === 'ssh'
      ? `  - keep this login and forward the port: on your computer run \`ssh -N -L ${target.port}:${forwardTo}:${target.port} <this host>\`, then open the URL there;`
      : '  - open the URL in a browser on this machine, if it has one (a text browser such as w3m or lynx works);',
    '  - or press Ctrl-C and run `yandex-token login --device`: type a code at Yandex on any device (a phone will do); nothing to register;',
    `  - or press Ctrl-C and run \`yandex-token login --no-localhost\`: paste back the code Yandex shows; the app needs ${verification} as a Redirect URI (apps "for API access" have it).`,
  ];
}

/**
 * The URL, the browser opened, one line of advice when this machine may be remote, and what the wait is
 * for: only what applies, shortest first. The rest comes with the hint, if the wait goes on. Returns the
 * situation, for the hint.
 */
async function showTheWay(url: string, target: RedirectTarget, session: LoginSession, ctx: Context): Promise<'ssh' | 'no-display' | undefined> {
  const { err } = ctx;
  err.line(session.options.demo ? 'Open this URL in a browser to log in to the emulator:' : 'Open this URL in a browser to log in to Yandex:');
  err.line();
  err.line(`  ${url}`);
  err.line();
  let opened = false;
  if (session.options.browser !== false) {
    opened = await ctx.openBrowser(url);
    // BROWSER=none asked for no browser: nothing failed.
    if (!opened && !isNoBrowser(ctx.settings.browser)) err.line('Could not start a browser; open the URL above yourself.');
  }
  const situation = remoteSituation(opened, ctx);
  if (situation) err.line(remoteHint(situation, target));
  err.line(
    `Waiting up to ${describeTimeout(session.timeoutSeconds)} for ${session.options.demo ? 'the emulator' : 'Yandex'} to redirect to ${target.uri} (Ctrl-C to abort).`,
  );
  return situation;
}

/** The redirect's query (a code or an error), once it arrives; on the way, once, what else to try. */
async function waitForRedirect(
  listener: CallbackListener,
  target: RedirectTarget,
  situation: 'ssh' | 'no-display' | undefined,
  session: LoginSession,
  ctx: Context,
): Promise<CallbackParams> {
  const { timeoutSeconds } = session;
  // A wait this long usually means the redirect cannot arrive: say what else to try, once. On the Context's
  // clock, so that a test's clock brings it at once.
  // Not in the demo: the hint is about real apps and real Yandex.
  const hint = new AbortController();
  if (!session.options.demo && BROWSER_HINT_MS < timeoutSeconds * 1000) {
    ctx.clock.sleep(BROWSER_HINT_MS, hint.signal).then(
      () => {
        const { err } = ctx;
        err.line(
          `Still waiting. If the browser shows an error or nothing happens, press Ctrl-C and try \`yandex-token login --device\` or \`--no-localhost\`: apps created "for API access" only redirect to ${ctx.api.oauthUrl}/verification_code, and a browser on another machine cannot reach ${target.uri}.`,
        );
        err.line(err.dim(`If Yandex says the redirect URI does not match, register exactly ${target.uri} as a Redirect URI of the app. If it says "Unknown client", the client ID is wrong: copy the ClientID from the app's page at https://oauth.yandex.ru.`));
        if (situation) for (const line of remoteAdvice(situation, target, ctx)) err.line(line);
      },
      () => undefined,
    );
  }
  try {
    return await waitFor(
      ctx.clock,
      listener.callback,
      timeoutSeconds,
      () =>
        new UserError(
          session.options.demo
            ? `No answer from the browser within ${describeTimeout(timeoutSeconds)}. Run \`yandex-token login --demo\` again and open the printed URL in a browser on this machine (a text browser such as w3m or lynx works too).`
            : `No answer from the browser within ${describeTimeout(timeoutSeconds)}. Run \`yandex-token login\` again; if Yandex showed an error page, check the app at https://oauth.yandex.ru: "Unknown client" means the client ID is wrong, and a redirect URI error means ${target.uri} is not registered in it (or use --device).`,
        ),
    );
  } finally {
    hint.abort();
  }
}

/** Exchanges the redirect's code and stores the token, and tells the browser tab how it went. */
async function finishLogin(params: CallbackParams, listener: CallbackListener, target: RedirectTarget, verifier: string, session: LoginSession, ctx: Context): Promise<TokenRecord> {
  if ('error' in params) {
    const error = refusedError(params, 'run `yandex-token login` again');
    const key = params.error === 'access_denied' ? 'declined' : 'refused';
    await listener.finish((lang) => CALLBACK_PAGES[lang][key]);
    throw error;
  }
  const { clientId, clientSecret, deviceId, deviceName } = session;
  try {
    const token = await exchangeCode(ctx.api, { code: params.code, codeVerifier: verifier, redirectUri: target.uri, clientId, clientSecret, deviceId, deviceName });
    const record = await session.save(token);
    await listener.finish((lang) => CALLBACK_PAGES[lang].loggedIn(loginName(record)));
    return record;
  } catch (error) {
    await listener.finish((lang) => CALLBACK_PAGES[lang].failed(error instanceof UserError ? error.message : undefined));
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
    const situation = await showTheWay(url, target, session, ctx);
    const params = await waitForRedirect(listener, target, situation, session, ctx);
    return await finishLogin(params, listener, target, verifier, session, ctx);
  } finally {
    await listener.close();
  }
}
