// The device flow's endpoints: POST /device/code (the app asks for a code), and the person's pages:
// GET /device (enter the user code), POST /device (the consent page for it), POST /device/decision.
import { count, decideDevice, deviceOf, findUserCode, isDeviceId, issueDeviceCode, scopeOf, scopeProblem } from '../model.js';
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

export const devicePage: Route = () =>
  html(200, 'Enter the code', `<h1>Enter the code shown by the app</h1>
<form method="post" action="/device"><input name="user_code" id="user_code" autocomplete="off" autofocus>
<button type="submit" id="continue">Continue</button></form>`);

export const deviceEntered: Route = ({ form }, model) => {
  const entry = findUserCode(model, form.user_code?.trim().toLowerCase());
  if (!entry) return html(400, 'Wrong code', '<h1>Wrong or expired code</h1><p><a href="/device">Try again</a></p>');
  const client = model.clients.get(entry.clientId)!;
  return html(200, 'Allow access', consentForm(model, '/device/decision', entry.userCode, client, entry));
};

export const deviceDecision: Route = ({ form }, model) => {
  if (!form.request || !decideDevice(model, form.request, form.decision === 'allow')) {
    return html(400, 'Wrong code', '<h1>Wrong or expired code</h1>');
  }
  return html(200, 'Done', `<h1>${form.decision === 'allow' ? 'Access allowed' : 'Access denied'}</h1><p>Return to the app.</p>`);
};
