// Yandex Cloud's IAM token exchange: POST {"yandexPassportOauthToken": …} to ${iamUrl}/iam/v1/tokens, and
// its answer checked before anyone stores, prints or sends it
// (https://yandex.cloud/en/docs/iam/api-ref/IamToken/create, …/operations/iam-token/create).
import { NetworkError, NotLoggedInError, UserError, untrusted } from '../errors.js';
import { IAM_TOKEN_PATTERN } from '../token/record.js';
import { jsonObject, notJson, request, type YandexApi } from './oauth.js';

/** An IAM token and when it stops working (ISO 8601, milliseconds). */
export interface IamToken {
  token: string;
  expiresAt: string;
}

/** "IAM tokens are valid for a maximum of 12 hours" (yandex.cloud/en/docs/iam/concepts/authorization/iam-token). */
export const IAM_TOKEN_MAX_LIFETIME_MS = 12 * 3_600_000;

/** RFC 3339 as Cloud writes it: "2019-02-15T21:39:58.513467Z" (any number of fraction digits, or an offset). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Cloud's errors are gRPC statuses: {"code": 16, "message": "…", "details": […]}. */
function cloudSaid(json: Record<string, unknown> | undefined): string {
  const message = typeof json?.message === 'string' ? untrusted(json.message, 200) : '';
  const code = typeof json?.code === 'number' ? ` (code ${json.code})` : '';
  return message ? `: "${message}"${code}` : code;
}

/** Whose OAuth token is exchanged, for the sentence when Cloud refuses it. */
export interface TokenOwner {
  /** "this OAuth token", 'the OAuth token of profile "work"', "the OAuth token in YANDEX_TOKEN". */
  whose: string;
  /** The profile's flag for the login command that stores another (" --profile work", or nothing). */
  profileFlag: string;
}

/** The sentence for Yandex Cloud refusing the OAuth token, with the way to a token it takes. */
function cloudRefused(status: number, said: string, owner: TokenOwner): NotLoggedInError {
  return new NotLoggedInError(
    `Yandex Cloud did not accept ${owner.whose} (HTTP ${status}${said}). Cloud's docs get the OAuth token through the Yandex Cloud CLI's own app: open https://oauth.yandex.ru/authorize?response_type=token&client_id=1a6990aa636648e9b2ef855fa7bec2fb, press Allow, and store the page's address with \`yandex-token login --with-token${owner.profileFlag}\`. Whether Cloud takes a token issued to your own app is not documented; if it refuses yours, use that link.`,
  );
}

/** Refused before it is kept: a token or expiry that cannot be used (the message says which). */
function badAnswer(origin: string, what: string): UserError {
  return new UserError(
    `The IAM token answer from ${origin} was refused: ${what}, so nothing was stored or printed. Check YANDEX_IAM_URL and any proxy in the way; if it is Yandex Cloud's, try again later.`,
  );
}

/**
 * The expiry Cloud gave, checked against `now`: a parseable RFC 3339 time in the future. One more than 12
 * hours away (a clock behind Cloud's, or a server that says more than Cloud promises) is clamped to 12
 * hours from now, the longest an IAM token lives.
 */
function expiryOf(value: unknown, now: Date, origin: string): string {
  const at = typeof value === 'string' && RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(at)) throw badAnswer(origin, 'its expiresAt is missing or not an RFC 3339 time');
  if (at <= now.getTime()) throw badAnswer(origin, `its expiresAt (${untrusted(String(value), 40)}) has already passed (check this machine's clock)`);
  return new Date(Math.min(at, now.getTime() + IAM_TOKEN_MAX_LIFETIME_MS)).toISOString();
}

/**
 * Exchanges an OAuth token for an IAM token at `iamUrl`. Cloud refusing the token (401, 403) is
 * NotLoggedInError (exit 4) saying what Cloud takes; the network, a server error or a rate limit is
 * NetworkError (worth retrying); anything else that is not a usable token is a UserError sentence.
 */
export async function createIamToken(api: YandexApi, iamUrl: string, oauthToken: string, now: Date, owner: TokenOwner): Promise<IamToken> {
  const answered = await request(
    api,
    `${iamUrl}/iam/v1/tokens`,
    { method: 'POST', headers: { accept: 'application/json' }, json: { yandexPassportOauthToken: oauthToken } },
    'iam',
  );
  const { response, origin } = answered;
  const json = jsonObject(response.text);
  // Only a JSON answer is Cloud's word: a 401 or 403 page from a proxy is not a refusal of the token.
  if (!json) throw notJson(answered, 'iam');
  if (response.status === 401 || response.status === 403) throw cloudRefused(response.status, cloudSaid(json), owner);
  if (response.status === 429 || response.status >= 500) {
    throw new NetworkError(
      `${origin} answered HTTP ${response.status}${cloudSaid(json)} while exchanging the OAuth token for a Yandex Cloud IAM token.`,
      'Yandex Cloud may be busy or having trouble; try again in a minute.',
    );
  }
  if (response.status < 200 || response.status >= 300) {
    throw new UserError(`${origin} answered HTTP ${response.status}${cloudSaid(json)} while exchanging the OAuth token for a Yandex Cloud IAM token. Check YANDEX_IAM_URL.`);
  }
  if (typeof json.iamToken !== 'string' || json.iamToken === '') throw badAnswer(origin, 'it has no iamToken');
  if (!IAM_TOKEN_PATTERN.test(json.iamToken)) throw badAnswer(origin, 'its iamToken is not a token (1 to 8192 printable ASCII characters without spaces)');
  return { token: json.iamToken, expiresAt: expiryOf(json.expiresAt, now, origin) };
}
