// What the token opens: login.yandex.ru/info, and stand-ins for three Yandex APIs, enough to try a script's
// requests against the emulator.
import { createHash, randomBytes } from 'node:crypto';
import { count, liveAccessToken, rightsOf, type Model } from '../model.js';
import { json, text, type Route } from './reply.js';

export const info: Route = ({ query: q, authorization }, model) => {
  count(model, 'info');
  // The header (OAuth, or Bearer as observed), or the discouraged oauth_token parameter.
  const match = /^(?:OAuth|Bearer)\s+(\S+)$/i.exec(authorization ?? '');
  const record = liveAccessToken(model, match?.[1] ?? q.oauth_token);
  if (!record) return text(401, '401 Unauthorized');
  if (q.format !== undefined && q.format !== 'json') return text(400, `The emulator answers format=json only, not format=${q.format}.`);
  const { account } = model;
  const rights = rightsOf(model, record);
  return json(200, {
    id: account.id,
    login: account.login,
    client_id: record.clientId,
    psuid: `1.${createHash('sha256').update(record.clientId + account.id).digest('base64url').slice(0, 20)}`,
    ...(rights.includes('login:email') ? { default_email: `${account.login}@yandex.ru`, emails: [`${account.login}@yandex.ru`] } : {}),
    ...(rights.includes('login:info') ? { display_name: account.login, real_name: account.login } : {}),
    ...(rights.includes('login:avatar') ? { default_avatar_id: '0/0-0', is_avatar_empty: true } : {}),
  });
};

/**
 * Stand-ins for three Yandex APIs: only how each takes the token is modelled (yandex-oauth.md §9.2): Disk
 * and Metrica want "Authorization: OAuth <token>", Direct v5 wants "Authorization: Bearer <token>", and
 * each refuses the other scheme. The bodies are small examples in each API's shape, not their data.
 */
function hasToken(authorization: string | undefined, scheme: 'OAuth' | 'Bearer', model: Model): boolean {
  const match = new RegExp(`^${scheme}\\s+(\\S+)$`).exec(authorization ?? '');
  return liveAccessToken(model, match?.[1]) !== undefined;
}

export const diskInfo: Route = ({ authorization }, model) => {
  count(model, 'api:disk');
  if (!hasToken(authorization, 'OAuth', model)) return json(401, { message: 'Не авторизован.', description: 'Unauthorized', error: 'UnauthorizedError' });
  return json(200, { user: { login: model.account.login, uid: model.account.id }, total_space: 10_737_418_240, used_space: 0, trash_size: 0, is_paid: false });
};

export const metricaCounters: Route = ({ authorization }, model) => {
  count(model, 'api:metrica');
  if (!hasToken(authorization, 'OAuth', model)) {
    return json(401, { errors: [{ error_type: 'invalid_token', message: 'Invalid oauth_token' }], code: 401, message: 'Invalid oauth_token' });
  }
  return json(200, { rows: 0, counters: [] });
};

export const directCampaigns: Route = ({ authorization }, model) => {
  count(model, 'api:direct');
  // Direct answers errors in the body (error_code 53: authorization error); whether with HTTP 200 is
  // UNCONFIRMED, and 200 is the reading that makes a script look at the body.
  if (!hasToken(authorization, 'Bearer', model)) {
    return json(200, {
      error: { request_id: randomBytes(8).toString('hex'), error_code: 53, error_string: 'Authorization error', error_detail: 'Pass the OAuth token as "Authorization: Bearer <token>".' },
    });
  }
  return json(200, { result: { Campaigns: [] } });
};
