// The package's public entry (`import { getToken } from 'yandex-token'`): the Node API and its error types.
export { getCredentials, getHeaders, getIamToken, getToken, listProfiles, login, loginWithToken } from './api.js';
export type { Credentials, DeviceCodePrompt, Env, GetHeadersOptions, GetTokenOptions, LoginOptions, LoginWithTokenOptions, Options, ServiceName, TokenRecord } from './api.js';
export { CancelledError, ConfigError, ExitCode, NetworkError, NotLoggedInError, OAuthError, TerminatedError, UserError } from './errors.js';
