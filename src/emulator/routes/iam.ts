// Yandex Cloud's IAM token exchange (POST /iam/v1/tokens): a live access token the emulator issued becomes
// an IAM token valid 12 hours; errors in Cloud's shape, a gRPC status as JSON: {"code", "message", "details"}.
import { count, issueIamToken } from '../model.js';
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
