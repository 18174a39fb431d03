// The package's public entry (`import { getToken } from 'yandex-token'`): the Node API and its error types.
export { getCredentials, getIamToken, getToken, listProfiles, login, loginWithToken } from './api.js';
export type { Credentials, DeviceCodePrompt, Env, GetTokenOptions, LoginOptions, LoginWithTokenOptions, Options, TokenRecord } from './api.js';
export { CancelledError, ConfigError, ExitCode, NetworkError, NotLoggedInError, OAuthError, TerminatedError, UserError } from './errors.js';
