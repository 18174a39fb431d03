// `yandex-token login --no-localhost`: no listener. Yandex redirects to its own verification_code page,
// which shows the code; the person pastes it (or that page's address) here. State and PKCE as in the
// loopback login.
import type { Context } from '../context.js';
import type { TokenRecord } from '../token/record.js';
import { UserError, untrusted } from '../errors.js';
import { exchangeCode } from '../yandex/oauth.js';
import { addressParams, describeTimeout, refusedError, startAuthorization, waitFor, type LoginSession } from './session.js';

const AGAIN = 'run `yandex-token login --no-localhost` again';

/** Yandex's verification_code page on its other host: the Russian docs say .ru, the English ones .com. */
function otherYandexPage(redirectUri: string): string | undefined {
  const swap: Record<string, string> = { 'https://oauth.yandex.ru/verification_code': 'https://oauth.yandex.com/verification_code' };
  swap['https://oauth.yandex.com/verification_code'] = 'https://oauth.yandex.ru/verification_code';
  return swap[redirectUri];
}

/** A pasted address as a URL (undefined for a bare code or what is not an address). */
function pastedPage(text: string): URL | undefined {
  const pasted = text.trim();
  if (!/^https?:\/\//i.test(pasted)) return undefined;
  try {
    return new URL(pasted);
  } catch {
    return undefined;
  }
}

/**
 * The code in what was pasted: the code itself, or the address of the page that showed it (its query
 * carries code=, state= and, on refusal, error=). A state that is not this login's is refused.
 */
export function codeFromPaste(text: string, state: string): string {
  const pasted = text.trim();
  if (!/^https?:\/\//i.test(pasted) && !/[?&#](code|state|error)=/.test(pasted)) return pasted;
  const params = addressParams(pasted);
  const error = params.get('error');
  if (error) throw refusedError({ error, description: params.get('error_description') ?? undefined }, AGAIN);
  const returned = params.get('state');
  if (returned !== null && returned !== state) {
    throw new UserError(`The pasted address belongs to another login (its state is not this one's). Paste the code from the page this login opened, or ${AGAIN}.`);
  }
  const code = params.get('code');
  if (!code) throw new UserError(`The pasted address has no code in it. Paste the code Yandex shows, or the whole address of that page; or ${AGAIN}.`);
  return code;
}

export async function loginByPaste(session: LoginSession, ctx: Context): Promise<TokenRecord> {
  const { options, clientId, clientSecret, deviceId, deviceName, timeoutSeconds } = session;
  const redirectUri = options.redirectUri ?? `${ctx.api.oauthUrl}/verification_code`;
  // Named as the alternative only when the person has not already picked a page.
  const other = options.redirectUri ? undefined : otherYandexPage(redirectUri);
  const { url, state, verifier } = startAuthorization(session, ctx, redirectUri);

  const { err } = ctx;
  err.line('Open this URL in a browser on any machine and log in to Yandex:');
  err.line();
  err.line(`  ${url}`);
  err.line();
  err.line('Yandex then shows a confirmation code: copy it (or the whole address of that page) and paste it here.');
  err.line(
    err.dim(
      `If Yandex says the redirect URI does not match, add ${redirectUri} to the app's Redirect URIs${options.redirectUri ? '' : ' (apps created "for API access" have it already)'}${other ? `, or, if the app has ${other} instead, pass --redirect-uri ${other}` : ''}.`,
    ),
  );
  if (options.browser !== false) await ctx.openBrowser(url);
  if (!ctx.interactive) err.line(`Reading the code from stdin (one line), for up to ${describeTimeout(timeoutSeconds)}.`);

  const pasted = await waitFor(
    ctx.clock,
    ctx.ask({
      message: 'Code from the Yandex page',
      instead: 'the code (or the address of the page that shows it) as one line on stdin, or run on a terminal',
      fromStdin: true,
    }),
    timeoutSeconds,
    () => new UserError(`No code was pasted within ${describeTimeout(timeoutSeconds)}. Nothing was stored; ${AGAIN}.`),
  );
  const code = codeFromPaste(pasted, state);
  // A page on another host than the one asked for means the app and this login disagree on the
  // Redirect URI. Yandex may still exchange the code (it does not require redirect_uri to match), so this
  // is said, not refused; only its host and path are repeated, never its query (the code, the state).
  const page = pastedPage(pasted);
  if (page && page.host !== new URL(redirectUri).host) {
    const host = untrusted(page.host, 100);
    const instead = page.protocol === 'https:' ? `, or, if the app has ${untrusted(`${page.origin}${page.pathname}`, 200)} instead, pass that as --redirect-uri next time` : '';
    ctx.err.line(
      `The pasted address is on ${host}, but this login asked Yandex to redirect to ${redirectUri}: register exactly that in the app${instead}. Trying the code anyway.`,
    );
  }
  const token = await exchangeCode(ctx.api, { code, codeVerifier: verifier, redirectUri, clientId, clientSecret, deviceId, deviceName, pasted: true });
  return session.save(token);
}
