// `yandex-token login --with-token`: a token the person already has (bare, the address of Yandex's
// verification_code page with #access_token=…, or a token endpoint's JSON), read from stdin or a hidden
// prompt, checked once at /info, and stored with no refresh token.
import type { Context } from '../context.js';
import { NotLoggedInError, OAuthError, UserError, untrusted } from '../errors.js';
import { ofProfile, profileFlag } from '../messages.js';
import { DEFAULT_LOGIN_TIMEOUT_SECONDS } from '../settings.js';
import { formatExpiry } from '../time.js';
import { TOKEN_PATTERN, type TokenRecord, type TokenResponse } from '../token/record.js';
import { checkTokenAnswer, fetchAccountInfo, type TokenAnswerFault } from '../yandex/oauth.js';
import type { ProfileLoginOptions } from './options.js';
import { addressParams, describeTimeout, prepareStore, saveLogin, waitFor } from './session.js';

/** What may be given, for the end of every sentence that refuses what was. */
const FORMS = "Give the token itself, the whole address of Yandex's verification_code page (…#access_token=…), or the JSON a token endpoint returned.";

/** What was given, read: the token, and whether a refresh token came with it (it is not kept). */
export interface GivenToken {
  token: TokenResponse;
  droppedRefreshToken: boolean;
}

/** The sentence for a token field that cannot be used; the text itself is never repeated (it may be a secret). */
function refuse(what: string) {
  return ({ field, missing }: TokenAnswerFault): UserError =>
    new UserError(
      missing
        ? `${what} has no ${field}, so nothing was stored. ${FORMS}`
        : `${what}: its ${field} is not a token (a token is 1 to 4096 printable ASCII characters without spaces), so nothing was stored. ${FORMS}`,
    );
}

/** The JSON of a token endpoint's answer: its access_token, expires_in, token_type and scope. */
function fromJson(text: string): GivenToken {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError(`What was given starts like JSON but is not a JSON object, so nothing was stored. ${FORMS}`);
  }
  const answer = json as Record<string, unknown>;
  if (typeof answer.error === 'string') {
    throw new UserError(`The JSON given is an error answer (${untrusted(answer.error, 60)}), not a token, so nothing was stored. ${FORMS}`);
  }
  // The refresh token is not kept (renewing needs the app's secret, which --with-token never asks for),
  // so it is neither checked nor able to fail the import.
  const { refresh_token: refresh, ...rest } = answer;
  const token = checkTokenAnswer(rest, refuse('The JSON given'));
  return { token, droppedRefreshToken: typeof refresh === 'string' && refresh !== '' };
}

/**
 * The address of the page Yandex redirected to with response_type=token (its fragment carries
 * access_token, token_type and expires_in), or that fragment alone. A code flow's address (?code=) or an
 * error (error=) is named as such.
 */
function fromAddress(text: string): GivenToken {
  const params = addressParams(text);
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description');
    const said = `${untrusted(error, 60)}${description ? ` (${untrusted(description)})` : ''}`;
    throw new UserError(
      error === 'access_denied'
        ? 'The address given says access was declined on the Yandex page, so it carries no token and nothing was stored. Open the authorize URL again and press Allow.'
        : `The address given carries Yandex's error ${said}, not a token, so nothing was stored. Check the app at https://oauth.yandex.ru and get a new token.`,
    );
  }
  if (!params.has('access_token') && params.has('code')) {
    throw new UserError(
      'The address given carries a confirmation code (response_type=code), not a token, so nothing was stored. Run `yandex-token login --no-localhost` to turn such a code into a token, or open the authorize URL with response_type=token to get the token itself.',
    );
  }
  const token = checkTokenAnswer(Object.fromEntries(params), refuse('The address given'));
  return { token, droppedRefreshToken: false };
}

/**
 * Reads what the person gave (pure: no I/O): a token endpoint's JSON, the address of Yandex's page with
 * #access_token=…, or the token alone (also as `OAuth <token>` or a whole `Authorization:` header, as
 * `print --header` writes it). Everything is checked as Yandex's answers are (checkTokenAnswer, TOKEN_PATTERN).
 */
export function readGivenToken(text: string): GivenToken {
  const given = text.trim();
  if (given.startsWith('{')) return fromJson(given);
  if (/^https?:\/\//i.test(given) || /(?:^|[?#&])(?:access_token|error|code)=/.test(given)) return fromAddress(given);
  const header = /^(?:authorization:[ \t]*)?(?:oauth|bearer)[ \t]+(\S+)$/i.exec(given);
  const token = header?.[1] ?? given;
  if (!TOKEN_PATTERN.test(token)) {
    throw new UserError(
      `What was given is not a token (a token is 1 to 4096 printable ASCII characters without spaces, on one line), so nothing was stored. ${FORMS}`,
    );
  }
  return { token: { access_token: token }, droppedRefreshToken: false };
}

/**
 * Asks for the token (a hidden prompt on a terminal, else all of stdin), checks it once at /info, and
 * stores it under the profile with the account's login, the app's client ID and its expiry when known.
 * Rejected by Yandex (401): NotLoggedInError (exit 4), and the file is not touched.
 */
export async function loginWithToken(options: ProfileLoginOptions, ctx: Context): Promise<TokenRecord> {
  const { profile } = options;
  prepareStore(ctx);
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS;
  const again = `run \`yandex-token login --with-token${profileFlag(profile)}\` again`;
  const text = await waitFor(
    ctx.clock,
    ctx.ask({
      message: 'Token, or the address of the page that shows it (hidden)',
      secret: true,
      fromStdin: true,
      wholeStdin: true,
      instead: `the token on stdin (\`yandex-token login --with-token${profileFlag(profile)} < token.txt\`), or run on a terminal`,
    }),
    timeoutSeconds,
    () => new UserError(`No token arrived within ${describeTimeout(timeoutSeconds)}. Nothing was stored; ${again} and give it the token.`),
  );
  const { token, droppedRefreshToken } = readGivenToken(text);

  // Once, and not best effort as after the other logins: this check is all there is to say the token works.
  const account = await fetchAccountInfo(ctx.api, token.access_token).catch((error: unknown) => {
    if (error instanceof OAuthError && error.code === 'invalid_token') {
      throw new NotLoggedInError(
        `Yandex rejected the token (HTTP 401): it is mistyped, expired or revoked, or belongs to another server. Nothing was stored; get a new token and ${again}.`,
        { cause: error },
      );
    }
    throw error;
  });
  // No refresh token, secret or device: this token is used until it expires. The app is Yandex's word for it.
  const record = await saveLogin(ctx, ctx.api, profile, token, { clientId: account.client_id ?? '', imported: true }, { account });

  if (droppedRefreshToken) {
    ctx.err.line('The refresh token in the JSON was not kept: renewing needs the app\'s client secret. For a token that renews itself, use `yandex-token login` with the app.');
  }
  ctx.err.line(
    record.expiresAt
      ? `The token${ofProfile(profile)} expires ${formatExpiry(record.expiresAt, ctx.now())} and will not be renewed (--with-token keeps no refresh token): ${again} with a new token before then.`
      : `Yandex's /info does not say when the token${ofProfile(profile)} expires (only the page's address or the JSON carries expires_in), and it will not be renewed: ${again} with a new token when it stops working.`,
  );
  return record;
}
