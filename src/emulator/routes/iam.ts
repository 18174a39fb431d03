// Yandex Cloud's IAM token exchange (POST /iam/v1/tokens): a live access token the emulator issued becomes
// an IAM token valid 12 hours; errors in Cloud's shape, a gRPC status as JSON: {"code", "message", "details"}.
// And a stand-in for one Cloud API that takes the IAM token (Resource Manager's list of clouds).
import { count, issueIamToken, liveIamToken } from '../model.js';
import { json, type Route } from './reply.js';

/** A gRPC status as Cloud's REST gateway writes it: 3 INVALID_ARGUMENT, 16 UNAUTHENTICATED. */
function cloudError(status: number, code: number, message: string) {
  return json(status, { code, message, details: [] });
}

/** RFC 3339 with microseconds, as in Cloud's docs' example ("2019-02-15T21:39:58.513467Z"). */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

export const iamToken: Route = ({ json: body }, model) => {
  count(model, 'iam');
  const given = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).yandexPassportOauthToken : undefined;
  if (typeof given !== 'string' || given === '') {
    return cloudError(400, 3, 'Request body must be JSON with a yandexPassportOauthToken (an OAuth token for a Yandex account)');
  }
  const issued = issueIamToken(model, given);
  if (!issued) return cloudError(401, 16, 'The OAuth token is invalid or expired');
  return json(200, { iamToken: issued.iamToken, expiresAt: rfc3339(issued.expiresAt) });
};

/**
 * GET /resource-manager/v1/clouds (at https://resource-manager.api.cloud.yandex.net), the docs' example of
 * using an IAM token: `Authorization: Bearer <IAM token>` with a live IAM token the emulator issued, else
 * 401 in Cloud's shape (an OAuth token is not taken here). The cloud is a small example, not data.
 */
export const cloudList: Route = ({ authorization }, model) => {
  count(model, 'api:cloud');
  const match = /^Bearer\s+(\S+)$/.exec(authorization ?? '');
  if (!liveIamToken(model, match?.[1])) return cloudError(401, 16, 'The token is invalid');
  return json(200, { clouds: [{ id: 'b1gemulatorcloud0001', createdAt: '2019-08-19T06:15:54Z', name: 'emulator-cloud', organizationId: 'emulator-organization' }] });
};
