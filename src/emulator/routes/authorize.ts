// The browser's side of the code flow: GET /authorize (checks, then the consent page), POST
// /authorize/decision (Allow or Deny, back to the app with a code, a debug token or an error), and
// GET /verification_code (Yandex's page that shows a code when the app has no redirect URI of its own).
import { PAGE_HEADERS, escapeHtml } from '../../html.js';
import {
  VERIFICATION_PATH,
  count,
  deviceOf,
  isDeviceId,
  issue,
  issueCode,
  randomToken,
  scopeOf,
  scopeProblem,
  startAuthorization,
  takeAuthorization,
  validRedirect,
  type PendingAuthorization,
} from '../model.js';
import { EMULATOR_PAGES } from '../../page-text.js';
import { BLOCKED, consentForm, html, redirect, type Reply, type Route } from './reply.js';

// Browsers apply form-action to the redirect that answers a form post too
// (https://www.w3.org/TR/CSP3/#directive-form-action), so the consent page must allow the redirect
// URI's scheme or a real browser never reaches the app. IPv6 hosts cannot be named in a CSP source.
function consentHeaders(redirectUri: string): Record<string, string> {
  return {
    'content-security-policy': PAGE_HEADERS['content-security-policy'].replace(
      "form-action 'self'",
      `form-action 'self' ${new URL(redirectUri).protocol}`,
    ),
  };
}

/** Back to the app with an error: in the query for codes, in the fragment for the implicit flow. */
function redirectError(pending: Pick<PendingAuthorization, 'redirectUri' | 'responseType' | 'state'>, error: string, description: string): Reply {
  const target = new URL(pending.redirectUri);
  const params = new URLSearchParams({ error, error_description: description });
  if (pending.state !== undefined) params.set('state', pending.state);
  if (pending.responseType === 'token') {
    target.hash = params.toString();
  } else {
    for (const [key, value] of params) target.searchParams.set(key, value);
  }
  return redirect(target.toString());
}

export const authorize: Route = ({ query: q, lang }, model) => {
  count(model, 'authorize');
  const client = q.client_id ? model.clients.get(q.client_id) : undefined;
  if (!client) return html(400, 'Error', '<h1>400 Unknown client with such client_id</h1>');
  if (q.response_type !== 'code' && q.response_type !== 'token') {
    return html(400, 'Error', '<h1>400 unsupported response_type</h1><p>Use response_type=code (or token for a debug token).</p>');
  }
  // Redirect-URI and client problems are shown here, never redirected (yandex-oauth.md §3).
  const redirectUri = q.redirect_uri ?? client.redirectUris?.[0] ?? `${model.base}${VERIFICATION_PATH}`;
  if (!validRedirect(model, client, redirectUri)) {
    return html(400, 'Error', '<h1>400 redirect_uri does not match the Callback URL defined for the client</h1>');
  }
  if (q.code_challenge_method && !['S256', 'plain'].includes(q.code_challenge_method)) {
    return html(400, 'Error', '<h1>400 invalid code_challenge_method</h1>');
  }
  if (q.device_id !== undefined && !isDeviceId(q.device_id)) {
    return html(400, 'Error', '<h1>400 invalid device_id</h1><p>6–50 printable ASCII characters.</p>');
  }
  if (q.state !== undefined && q.state.length > 1024) {
    return html(400, 'Error', '<h1>400 state is longer than 1024 characters</h1>');
  }
  const responseType = q.response_type;
  if (client.blocked) return redirectError({ redirectUri, responseType, state: q.state }, 'unauthorized_client', BLOCKED);
  const badScope = scopeProblem(client, q.scope) ?? scopeProblem(client, q.optional_scope);
  if (badScope) return redirectError({ redirectUri, responseType, state: q.state }, 'invalid_scope', badScope);
  const grant: PendingAuthorization = {
    clientId: client.id,
    responseType,
    redirectUri,
    redirectUriSent: q.redirect_uri !== undefined,
    state: q.state,
    codeChallenge: q.code_challenge,
    codeChallengeMethod: q.code_challenge ? (q.code_challenge_method ?? 'plain') : undefined,
    scope: scopeOf(q.scope, q.optional_scope),
    ...deviceOf(q.device_id, q.device_name),
  };
  const id = startAuthorization(model, grant);
  return html(200, EMULATOR_PAGES[lang].allowTitle, consentForm(model, '/authorize/decision', id, client, grant, lang), consentHeaders(redirectUri), lang);
};

export const authorizeDecision: Route = ({ form }, model) => {
  const pending = takeAuthorization(model, form.request);
  if (!pending) return html(400, 'Error', '<h1>This request has expired. Start again.</h1>');
  const target = new URL(pending.redirectUri);
  if (form.decision !== 'allow') {
    count(model, 'denied');
    return redirectError(pending, 'access_denied', 'The user denied access');
  }
  if (pending.responseType === 'token') {
    // A debug token: in the fragment, with no refresh token (yandex-oauth.md §2.4, §11).
    const { access_token, expires_in, token_type } = issue(model, pending);
    const fragment = new URLSearchParams({ access_token, token_type, expires_in: String(expires_in) });
    if (pending.state !== undefined) fragment.set('state', pending.state);
    target.hash = fragment.toString();
    return redirect(target.toString());
  }
  target.searchParams.set('code', issueCode(model, pending));
  if (pending.state !== undefined) target.searchParams.set('state', pending.state);
  target.searchParams.set('cid', randomToken('', 6));
  return redirect(target.toString());
};

export const verificationCode: Route = ({ query: q, lang }) => {
  if (q.error) return html(400, 'Error', `<h1>Access was not granted</h1><p>${escapeHtml(q.error)}</p>`);
  if (!q.code) {
    return html(200, 'Your token', '<h1>No code in this address</h1><p>For response_type=token the token is in this page\'s address, after <code>#access_token=</code>.</p>');
  }
  const words = EMULATOR_PAGES[lang];
  return html(200, words.codeTitle, `<h1>${words.yourCode}</h1><p><code id="code">${escapeHtml(q.code)}</code></p><p>${words.enterInApp}</p>`, {}, lang);
};
