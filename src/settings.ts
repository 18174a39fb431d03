// The only reader of process.env: endpoints, credentials, profile, folders and timeouts.
import { isAbsolute, join } from 'node:path';
import { UserError } from './errors.js';

/**
 * The user's home as os.homedir() says when HOME does not. node:os is loaded only then: loading it costs
 * every print a little start-up time, and HOME is nearly always set.
 */
function homedir(): string {
  return process.getBuiltinModule('node:os').homedir();
}

export const DEFAULT_OAUTH_URL = 'https://oauth.yandex.ru';
export const DEFAULT_LOGIN_URL = 'https://login.yandex.ru';
/** Yandex Cloud's IAM API, where an OAuth token is exchanged for an IAM token (POST /iam/v1/tokens). */
export const DEFAULT_IAM_URL = 'https://iam.api.cloud.yandex.net';
export const DEFAULT_PORT = 8765;
const DEFAULT_PROFILE = 'default';
const DEFAULT_HTTP_TIMEOUT_SECONDS = 30;
export const DEFAULT_LOGIN_TIMEOUT_SECONDS = 300;
export const DEFAULT_EMULATOR_PORT = 8766;
/** A variable name a shell could set and read (exec --env): letters, digits and `_`, not starting with a digit. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Profile names: safe as JSON keys and in file names, never "__proto__". */
export const PROFILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface Settings {
  // The endpoints the environment names; which ones a run and a stored login use is token/server.ts's to say.
  /** YANDEX_OAUTH_URL, the base of Yandex OAuth (authorize, token, device, revoke), without a trailing slash. */
  oauthUrl?: string;
  /** YANDEX_LOGIN_URL, the base of Yandex ID (the /info endpoint), without a trailing slash. */
  loginUrl?: string;
  /** YANDEX_IAM_URL, the base of Yandex Cloud's IAM API (print --iam), without a trailing slash. */
  iamUrl?: string;
  clientId?: string;
  clientSecret?: string;
  /** A token from the environment (CI): wins over anything stored. */
  token?: string;
  profile: string;
  /** Whether YANDEX_TOKEN_PROFILE named the profile (status then shows that one instead of all). */
  profileFromEnv: boolean;
  /** The folder that holds config.json. */
  configDir: string;
  /** A command line to open URLs with, instead of the system's browser. */
  browser?: string;
  httpTimeoutMs: number;
  debug: boolean;
  /** Facts about the session used to pick advice for headless machines. */
  display: { ssh: boolean; graphical: boolean };
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY as set; absent when no proxy is named (requests go direct). */
  proxy?: ProxySettings;
  /**
   * A service's API base URL as the environment names it (YANDEX_DIRECT_URL, YANDEX_TRACKER_URL, …), for
   * tests and emulators; unchecked here (services.ts checks it when it is used, so print never fails on it).
   */
  serviceUrls: Partial<Record<string, string>>;
}

/** A proxy variable as set, with its name for messages. */
export interface ProxyVariable {
  name: string;
  value: string;
}

export interface ProxySettings {
  /** For http:// endpoints; https:// ones use it too when no HTTPS proxy is set (as undici does). */
  http?: ProxyVariable;
  https?: ProxyVariable;
  /** Hosts that go direct: comma- or space-separated names (a leading "." or "*." matches subdomains), host:port, or "*". */
  noProxy: string;
}

export type Env = Record<string, string | undefined>;


function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function baseUrl(value: string | undefined): string | undefined {
  return nonEmpty(value)?.replace(/\/+$/, '');
}

function seconds(value: string | undefined, fallback: number, name: string): number {
  const raw = nonEmpty(value);
  if (raw === undefined) return fallback;
  const parsed = Number(raw);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new UserError(`${name} must be a positive number of seconds, not "${raw}". Fix or unset it.`);
  }
  return parsed;
}

/**
 * The folder conf would use for project "yandex-token" without the "-nodejs" suffix (as env-paths
 * computes it), unless YANDEX_TOKEN_CONFIG_DIR names another. A relative XDG_CONFIG_HOME is ignored,
 * as the XDG Base Directory spec says.
 */
export function configDirFor(env: Env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  const override = nonEmpty(env.YANDEX_TOKEN_CONFIG_DIR);
  if (override) return override;
  const name = 'yandex-token';
  if (platform === 'darwin') return join(home, 'Library', 'Preferences', name);
  if (platform === 'win32') return join(nonEmpty(env.APPDATA) ?? join(home, 'AppData', 'Roaming'), name, 'Config');
  const xdg = nonEmpty(env.XDG_CONFIG_HOME);
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.config'), name);
}

/** The lower-case form wins, as in curl and undici; an empty value counts as unset. */
function proxyVariable(env: Env, name: string): ProxyVariable | undefined {
  for (const key of [name.toLowerCase(), name]) {
    const value = nonEmpty(env[key]);
    if (value) return { name: key, value };
  }
  return undefined;
}

function proxySettings(env: Env): ProxySettings | undefined {
  const http = proxyVariable(env, 'HTTP_PROXY');
  const https = proxyVariable(env, 'HTTPS_PROXY');
  if (!http && !https) return undefined;
  return { http, https, noProxy: proxyVariable(env, 'NO_PROXY')?.value ?? '' };
}

/** The services whose base URL the environment may replace, as in YANDEX_<NAME>_URL (services.ts owns the rest). */
const SERVICE_URL_NAMES = ['direct', 'tracker', 'wiki', '360', 'disk', 'metrica', 'cloud'];

function serviceUrls(env: Env): Partial<Record<string, string>> {
  const urls: Partial<Record<string, string>> = {};
  for (const name of SERVICE_URL_NAMES) {
    const value = baseUrl(env[`YANDEX_${name.toUpperCase()}_URL`]);
    if (value !== undefined) urls[name] = value;
  }
  return urls;
}

function profileFrom(value: string | undefined): string | undefined {
  const name = nonEmpty(value);
  if (name !== undefined && !PROFILE_PATTERN.test(name)) {
    throw new UserError(
      `YANDEX_TOKEN_PROFILE must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit, not "${name}". Fix or unset it.`,
    );
  }
  return name;
}

/** The profile a command acts on: its --profile, else YANDEX_TOKEN_PROFILE, else "default". */
export function profileFor(flag: string | undefined, settings: Settings): string {
  return flag ?? settings.profile;
}

/** The profile `status` shows: its --profile, else YANDEX_TOKEN_PROFILE; undefined (every profile) without either. */
export function statusProfileFor(flag: string | undefined, settings: Settings): string | undefined {
  return flag ?? (settings.profileFromEnv ? settings.profile : undefined);
}

export function readSettings(env: Env = process.env, platform: NodeJS.Platform = process.platform): Settings {
  const home = nonEmpty(env.HOME) ?? homedir();
  const envProfile = profileFrom(env.YANDEX_TOKEN_PROFILE);
  const debug = (env.DEBUG ?? '').split(',').some((part) => /^(\*|yandex-token(:.*)?)$/.test(part.trim()));
  return {
    oauthUrl: baseUrl(env.YANDEX_OAUTH_URL),
    loginUrl: baseUrl(env.YANDEX_LOGIN_URL),
    iamUrl: baseUrl(env.YANDEX_IAM_URL),
    clientId: nonEmpty(env.YANDEX_CLIENT_ID),
    clientSecret: nonEmpty(env.YANDEX_CLIENT_SECRET),
    token: nonEmpty(env.YANDEX_TOKEN),
    profile: envProfile ?? DEFAULT_PROFILE,
    profileFromEnv: envProfile !== undefined,
    configDir: configDirFor(env, platform, home),
    browser: nonEmpty(env.BROWSER),
    httpTimeoutMs:
      seconds(env.YANDEX_TOKEN_HTTP_TIMEOUT, DEFAULT_HTTP_TIMEOUT_SECONDS, 'YANDEX_TOKEN_HTTP_TIMEOUT') * 1000,
    debug,
    display: {
      ssh: Boolean(nonEmpty(env.SSH_CONNECTION) ?? nonEmpty(env.SSH_TTY)),
      graphical:
        platform === 'darwin' || platform === 'win32' || Boolean(nonEmpty(env.DISPLAY) ?? nonEmpty(env.WAYLAND_DISPLAY)),
    },
    proxy: proxySettings(env),
    serviceUrls: serviceUrls(env),
  };
}
