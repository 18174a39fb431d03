// The token endpoint, one function per grant type (authorization_code with PKCE, refresh_token,
// device_code), and /revoke_token: client authentication first, then Yandex's errors in its order.
import {
  count,
  deviceOf,
  hasCodeShape,
  isDeviceId,
  issue,
  pollDevice,
  refresh,
  revoke,
  sameSecret,
  takeCode,
  verifierMatches,
  type EmulatorClient,
  type Model,
} from '../model.js';
import { BLOCKED, json, oauthError, type Reply, type Route } from './reply.js';

interface Authentication {
  client?: EmulatorClient;
  secretGiven: boolean;
  error?: string;
}

/** Client authentication: the Basic header wins over body parameters, as Yandex documents. */
function authenticate(model: Model, header: string | undefined, form: Record<string, string>): Authentication {
  let id = form.client_id;
  let secret = form.client_secret;
  if (header) {
    if (!/^Basic(\s|$)/i.test(header)) return { secretGiven: false, error: 'Basic auth required' };
    const encoded = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header)?.[1];
    const decoded = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0) return { secretGiven: false, error: 'Malformed Authorization header' };
    id = decoded.slice(0, colon);
    secret = decoded.slice(colon + 1);
  }
  const client = id ? model.clients.get(id) : undefined;
  if (!client) return { secretGiven: false, error: 'Client not found' };
  if (secret !== undefined && !sameSecret(secret, client.secret)) return { secretGiven: true, error: 'Wrong client secret' };
  return { client, secretGiven: secret !== undefined };
}

/** The Basic header's own errors are answered 401 with no description (yandex-oauth.md §4.3). */
function headerError(error: string | undefined): Reply | undefined {
  if (error !== 'Basic auth required' && error !== 'Malformed Authorization header') return undefined;
  return json(401, { error });
}

export const token: Route = ({ form, authorization }, model) => {
  const grantType = form.grant_type;
  count(model, `token:${grantType ?? 'none'}`);
  if (!grantType) return oauthError('invalid_request', 'Missing grant_type');
  const auth = authenticate(model, authorization, form);
  const refused = headerError(auth.error);
  if (refused) return refused;
  if (!auth.client) return oauthError('invalid_client', auth.error ?? 'Client not found');
  const client = auth.client;
  if (client.blocked) return oauthError('unauthorized_client', BLOCKED);
  if (grantType === 'authorization_code') return authorizationCodeGrant(model, form, client, auth.secretGiven);
  if (!auth.secretGiven) return oauthError('invalid_client', 'client_secret required');
  if (grantType === 'refresh_token') return refreshTokenGrant(model, form, client);
  if (grantType === 'device_code') return deviceCodeGrant(model, form, client);
  return oauthError('unsupported_grant_type', `Unsupported grant_type ${grantType}`);
};

function authorizationCodeGrant(model: Model, form: Record<string, string>, client: EmulatorClient, secretGiven: boolean): Reply {
  if (!form.code) return oauthError('invalid_request', 'Missing code');
  if (!hasCodeShape(model, form.code)) return oauthError('bad_verification_code', 'Invalid verification code format');
  const issued = takeCode(model, form.code);
  if (!issued) return oauthError('invalid_grant', 'Code has expired');
  if (issued.clientId !== client.id) return oauthError('invalid_grant', 'Code was issued to another application');
  if (form.redirect_uri !== undefined ? form.redirect_uri !== issued.redirectUri : model.requireRedirectUri && issued.redirectUriSent) {
    return oauthError('invalid_grant', 'redirect_uri does not match the one in the authorization request');
  }
  if (issued.codeChallenge) {
    if (!form.code_verifier) return oauthError('invalid_grant', 'code_verifier required');
    if (!verifierMatches(issued, form.code_verifier)) return oauthError('invalid_grant', 'Invalid code_verifier');
  } else if (!secretGiven) {
    return oauthError('invalid_client', 'client_secret required');
  }
  // device_id in the token request counts only when the authorize request had none (yandex-oauth.md §4.1).
  if (!issued.deviceId && form.device_id !== undefined) {
    if (!isDeviceId(form.device_id)) return oauthError('invalid_request', 'Invalid device_id');
    Object.assign(issued, deviceOf(form.device_id, form.device_name));
  }
  return json(200, issue(model, issued));
}

function refreshTokenGrant(model: Model, form: Record<string, string>, client: EmulatorClient): Reply {
  if (!form.refresh_token) return oauthError('invalid_request', 'Missing refresh_token');
  const tokens = refresh(model, form.refresh_token, client.id);
  return tokens ? json(200, tokens) : oauthError('invalid_grant', 'Invalid refresh token');
}

function deviceCodeGrant(model: Model, form: Record<string, string>, client: EmulatorClient): Reply {
  if (!form.code) return oauthError('invalid_request', 'Missing code');
  const poll = pollDevice(model, form.code, client.id);
  switch (poll) {
    case 'invalid':
      return oauthError('invalid_grant', 'Invalid device code');
    case 'expired':
      return oauthError(model.rfcDeviceErrors ? 'expired_token' : 'invalid_grant', 'Device code has expired');
    case 'slow_down':
      return oauthError('slow_down', 'Polling too frequently');
    case 'denied':
      return oauthError(model.rfcDeviceErrors ? 'access_denied' : 'invalid_grant', 'The user denied access');
    case 'pending':
      return oauthError('authorization_pending', 'User has not yet authorized your application');
    default:
      return json(200, poll);
  }
}

export const revokeToken: Route = ({ form, authorization }, model) => {
  count(model, 'revoke');
  const auth = authenticate(model, authorization, form);
  const refused = headerError(auth.error);
  if (refused) return refused;
  if (!auth.client || !auth.secretGiven) return oauthError('invalid_client', auth.error ?? 'client_secret required');
  if (!form.access_token) return oauthError('invalid_request', 'Missing access_token');
  const record = model.accessTokens.get(form.access_token);
  if (!record) return json(200, { status: 'ok' });
  if (record.clientId !== auth.client.id) return oauthError('invalid_grant', 'Token belongs to another application');
  if (!record.deviceId) return oauthError('unsupported_token_type', 'Token was not issued for a device');
  revoke(model, form.access_token);
  count(model, 'revoked');
  return json(200, { status: 'ok' });
};
