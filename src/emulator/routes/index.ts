// The emulator's routes by "METHOD /path": each a function of the request's data and the model that
// returns the answer for the server to write.
import { VERIFICATION_PATH } from '../model.js';
import { directCampaigns, diskInfo, info, metricaCounters } from './apis.js';
import { authorize, authorizeDecision, verificationCode } from './authorize.js';
import { deviceCode, deviceDecision, deviceEntered, devicePage } from './device.js';
import { cloudList, iamToken } from './iam.js';
import type { Route } from './reply.js';
import { revokeToken, token } from './token.js';

export { json, oauthError, type Reply, type RouteRequest, type Route } from './reply.js';

export const ROUTES: Record<string, Route> = {
  'GET /authorize': authorize,
  'POST /authorize/decision': authorizeDecision,
  [`GET ${VERIFICATION_PATH}`]: verificationCode,
  'POST /token': token,
  'POST /device/code': deviceCode,
  'GET /device': devicePage,
  'POST /device': deviceEntered,
  'POST /device/decision': deviceDecision,
  'POST /revoke_token': revokeToken,
  'GET /info': info,
  'GET /v1/disk': diskInfo,
  'GET /v1/disk/': diskInfo,
  'GET /management/v1/counters': metricaCounters,
  'POST /json/v5/campaigns': directCampaigns,
  'POST /iam/v1/tokens': iamToken,
  'GET /resource-manager/v1/clouds': cloudList,
};
