// `yandex-token login --no-localhost`: no listener. Yandex redirects to its own verification_code page,
// which shows the code; the person pastes it (or that page's address) here. State and PKCE as in the
// loopback login.
import type { Context } from '../context.js';
import type { TokenRecord } from '../store.js';
import { UserError } from '../errors.js';
import { exchangeCode } from '../oauth.js';
import { describeTimeout, startAuthorization, waitFor, type LoginSession } from './login.js';

const AGAIN = 'run `yandex-token login --no-localhost` again';

/**
 * The code in what was pasted: the code itself, or the address of the page that showed it (its query
 * carries code=, state= and, on refusal, error=). A state that is not this login's is refused.
 */
export function codeFromPaste(text: string, state: string): string {
  const pasted = text.trim();
  if (!/^https?:\/\//i.test(pasted) && !/[?&#](code|state|error)=/.test(pasted)) return pasted;
  const query = pasted.slice(pasted.search(/[?#]/) + 1);
  const params = new URLSearchParams(query.replace(/#/g, '&'));
  const error = params.get('error');
  if (error === 'access_denied') throw new UserError(`Access was declined in the browser. Nothing was stored; ${AGAIN} to retry.`);
  if (error) {
    const description = params.get('error_description');
    throw new UserError(`Yandex returned ${error}${description ? ` (${description})` : ''} instead of a code. Check the app at https://oauth.yandex.ru and ${AGAIN}.`);
  }
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
  const redirectUri = `${ctx.settings.oauthUrl}/verification_code`;
  const { url, state, verifier } = startAuthorization(session, ctx, redirectUri);

  const { err } = ctx;
  err.line('Open this URL in a browser on any machine and log in to Yandex:');
  err.line();
  err.line(`  ${url}`);
  err.line();
  err.line('Yandex then shows a confirmation code: copy it (or the whole address of that page) and paste it here.');
  err.line(
    err.dim(
      `If Yandex says the redirect URI does not match, add ${redirectUri} to the app's Redirect URIs (apps created "for API access" have it already).`,
    ),
  );
  if (options.browser !== false) await ctx.openBrowser(url);
  if (!ctx.interactive) err.line(`Reading the code from stdin (one line), for up to ${describeTimeout(timeoutSeconds)}.`);

  const pasted = await waitFor(
    ctx.ask({
      message: 'Code from the Yandex page',
      instead: 'the code (or the address of the page that shows it) as one line on stdin, or run on a terminal',
      fromStdin: true,
    }),
    timeoutSeconds,
    () => new UserError(`No code was pasted within ${describeTimeout(timeoutSeconds)}. Nothing was stored; ${AGAIN}.`),
  );
  const code = codeFromPaste(pasted, state);
  const token = await exchangeCode(ctx.api, { code, codeVerifier: verifier, clientId, clientSecret, deviceId, deviceName, pasted: true });
  return session.save(token);
}
