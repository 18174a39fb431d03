// The device flow's endpoints: POST /device/code (the app asks for a code), and the person's pages:
// GET /device (enter the user code), POST /device (the consent page for it), POST /device/decision.
import { count, decideDevice, deviceOf, findUserCode, isDeviceId, issueDeviceCode, scopeOf, scopeProblem } from '../model.js';
import { EMULATOR_PAGES } from '../../page-text.js';
import { BLOCKED, consentForm, html, json, oauthError, type Route } from './reply.js';

export const deviceCode: Route = ({ form }, model) => {
  count(model, 'device_code');
  if (!form.client_id) return oauthError('invalid_request', 'Missing client_id');
  const client = model.clients.get(form.client_id);
  if (!client) return oauthError('invalid_client', 'Client not found');
  if (client.blocked) return oauthError('unauthorized_client', BLOCKED);
  if (form.device_id !== undefined && !isDeviceId(form.device_id)) return oauthError('invalid_request', 'Invalid device_id');
  const badScope = scopeProblem(client, form.scope) ?? scopeProblem(client, form.optional_scope);
  if (badScope) return oauthError('invalid_scope', badScope);
  const { deviceCode: code, userCode, interval, expiresIn } = issueDeviceCode(model, {
    clientId: client.id,
    scope: scopeOf(form.scope, form.optional_scope),
    ...deviceOf(form.device_id, form.device_name),
  });
  return json(200, { device_code: code, user_code: userCode, verification_url: `${model.base}/device`, interval, expires_in: expiresIn });
};

export const devicePage: Route = ({ lang }) => {
  const words = EMULATOR_PAGES[lang];
  return html(200, words.enterCodeTitle, `<h1>${words.enterCode}</h1>
<form method="post" action="/device"><input name="user_code" id="user_code" autocomplete="off" autofocus>
<button type="submit" id="continue">${words.continue}</button></form>`, {}, lang);
};

export const deviceEntered: Route = ({ form, lang }, model) => {
  const words = EMULATOR_PAGES[lang];
  const entry = findUserCode(model, form.user_code?.trim().toLowerCase());
  if (!entry) return html(400, words.wrongCodeTitle, `<h1>${words.wrongCode}</h1><p><a href="/device">${words.tryAgain}</a></p>`, {}, lang);
  const client = model.clients.get(entry.clientId)!;
  return html(200, words.allowTitle, consentForm(model, '/device/decision', entry.userCode, client, entry, lang), {}, lang);
};

export const deviceDecision: Route = ({ form, lang }, model) => {
  const words = EMULATOR_PAGES[lang];
  if (!form.request || !decideDevice(model, form.request, form.decision === 'allow')) {
    return html(400, words.wrongCodeTitle, `<h1>${words.wrongCode}</h1>`, {}, lang);
  }
  return html(200, words.doneTitle, `<h1>${form.decision === 'allow' ? words.allowed : words.denied}</h1><p>${words.returnToApp}</p>`, {}, lang);
};
