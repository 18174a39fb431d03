// A local Yandex OAuth emulator on loopback, written from Yandex's documentation (see README): authorize
// with a consent page, token (authorization_code + PKCE, refresh_token with rotation, device_code),
// device/code and its page, verification_code, revoke_token and login.yandex.ru/info, Yandex Cloud's IAM
// token exchange (iam/v1/tokens), and how Disk, Metrica and Direct take the token (for trying scripts'
// requests). The project's tests run against it,
// and `yandex-token emulator` serves it for trying the tool without a Yandex app.
// Never a stand-in for Yandex in production: it keeps everything in memory and trusts whoever clicks.
//
// This file is its public surface. model.ts holds the state and its rules (no HTTP), routes/ one handler
// per endpoint (the request's data and the model in, the answer out), server.ts the node:http server
// (parsing, failures, delays, the request log), person.ts the scripted person at its pages.
export {
  DEMO_ACCOUNT,
  DEMO_CLIENT,
  ENDPOINTS,
  FAILURE_MODES,
  type EmulatorAccount,
  type EmulatorClient,
  type Endpoint,
  type FailureMode,
  type LoggedRequest,
} from './model.js';
export { startEmulator, type Emulator, type EmulatorOptions } from './server.js';
export { browseConsent, enterDeviceCode, type BrowsedPage } from './person.js';
