// Yandex's services, as a profile's token is handed to them: for each, its API hosts, how it takes the
// token, the extra headers it wants from the profile's settings (Direct's Client-Login, Tracker's
// organisation), and what it cannot do without. Also the settings themselves: their keys and what a value
// may be. Pure: no I/O; print, api, profile and the Node API ask it.
import { ConfigError, UserError, untrusted } from './errors.js';
import { profileFlag } from './messages.js';
import type { Settings } from './settings.js';

/** What `profile set` keeps per profile, apart from the token record (store/read.ts ConfigData.settings). */
export interface ServiceSettings {
  /** Direct: the agency's client account, sent as Client-Login. */
  clientLogin?: string;
  /** Tracker, Wiki: a Yandex 360 organisation's id (digits), sent as X-Org-ID. */
  orgId?: string;
  /** Tracker, Wiki: a Yandex Cloud organisation's id (letters and digits), sent as X-Cloud-Org-ID. */
  cloudOrgId?: string;
}

/** The keys as the CLI spells them, and the field each sets. */
export const SETTING_KEYS = { 'client-login': 'clientLogin', 'org-id': 'orgId', 'cloud-org-id': 'cloudOrgId' } as const;
export type SettingKey = keyof typeof SETTING_KEYS;
export const SETTING_NAMES = Object.keys(SETTING_KEYS) as SettingKey[];

export const SERVICE_NAMES = ['direct', 'tracker', 'wiki', '360', 'disk', 'metrica', 'cloud'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

interface Service {
  name: ServiceName;
  title: string;
  /** The API's base URL; absent for Cloud, whose APIs each have a host of their own. */
  baseUrl?: string;
  /** Host names that are this service's API. */
  hosts: string[];
  /** A host ending in this is the service's too (Cloud: *.api.cloud.yandex.net). */
  hostSuffix?: string;
  /** OAuth: `Authorization: OAuth <token>`; Bearer: `Authorization: Bearer <token>`; iam: Bearer with an IAM token. */
  scheme: 'OAuth' | 'Bearer' | 'iam';
  /** The headers beside Authorization, from the settings; throws when one the service needs is missing. */
  extra?: (settings: ServiceSettings, profile: string) => Record<string, string>;
}

/** Tracker's and Wiki's organisation header: X-Org-ID (Yandex 360) or X-Cloud-Org-ID (Yandex Cloud). */
function organisation(title: string) {
  return (settings: ServiceSettings, profile: string): Record<string, string> => {
    if (settings.orgId) return { 'X-Org-ID': settings.orgId };
    if (settings.cloudOrgId) return { 'X-Cloud-Org-ID': settings.cloudOrgId };
    const flag = profileFlag(profile);
    throw new UserError(
      `${title} needs the organisation's id, and none is set${flag ? ` for profile "${profile}"` : ''}. Find it on Tracker's organisation page (https://tracker.yandex.ru/admin/orgs) and run \`yandex-token profile set${flag} org-id <id>\` for a Yandex 360 organisation, or \`yandex-token profile set${flag} cloud-org-id <id>\` for a Yandex Cloud one.`,
    );
  };
}

const SERVICES: Record<ServiceName, Service> = {
  direct: {
    name: 'direct',
    title: 'Yandex Direct',
    baseUrl: 'https://api.direct.yandex.com',
    hosts: ['api.direct.yandex.com', 'api.direct.yandex.ru', 'api-sandbox.direct.yandex.com', 'api-sandbox.direct.yandex.ru'],
    scheme: 'Bearer',
    extra: (settings): Record<string, string> => (settings.clientLogin ? { 'Client-Login': settings.clientLogin } : {}),
  },
  tracker: { name: 'tracker', title: 'Yandex Tracker', baseUrl: 'https://api.tracker.yandex.net', hosts: ['api.tracker.yandex.net'], scheme: 'OAuth', extra: organisation('Yandex Tracker') },
  wiki: { name: 'wiki', title: 'Yandex Wiki', baseUrl: 'https://api.wiki.yandex.net', hosts: ['api.wiki.yandex.net'], scheme: 'OAuth', extra: organisation('Yandex Wiki') },
  '360': { name: '360', title: 'Yandex 360', baseUrl: 'https://api360.yandex.net', hosts: ['api360.yandex.net'], scheme: 'OAuth' },
  disk: { name: 'disk', title: 'Yandex Disk', baseUrl: 'https://cloud-api.yandex.net', hosts: ['cloud-api.yandex.net'], scheme: 'OAuth' },
  metrica: { name: 'metrica', title: 'Yandex Metrica', baseUrl: 'https://api-metrika.yandex.net', hosts: ['api-metrika.yandex.net', 'api-metrika.yandex.ru'], scheme: 'OAuth' },
  cloud: { name: 'cloud', title: 'Yandex Cloud', hosts: [], hostSuffix: '.api.cloud.yandex.net', scheme: 'iam' },
};

/**
 * Domains whose hosts are Yandex's: `api` sends a token to any of them (OAuth, no extra headers) and to
 * no other host unless --allow-host names it. Not yandexcloud.net: its hosts are customers' (functions,
 * API gateways, websites).
 */
const YANDEX_DOMAINS = ['yandex.net', 'yandex.ru', 'yandex.com', 'yandex.com.tr', 'yandex.by', 'yandex.kz', 'yandex.uz', 'ya.ru'];

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

export function serviceTitle(name: ServiceName): string {
  return SERVICES[name].title;
}

/** Whether `api` may send a token to this host name at all. */
export function isYandexHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return YANDEX_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

/**
 * The base URL the environment names for a service (YANDEX_DIRECT_URL, …; for tests and emulators),
 * checked: an http(s) URL with no query or fragment, without a trailing slash.
 */
export function environmentBaseUrl(settings: Pick<Settings, 'serviceUrls'>, name: ServiceName): URL | undefined {
  const value = settings.serviceUrls[name];
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
    throw new UserError(`${serviceVariable(name)} is not a base URL (http(s)://host[:port][/path]): fix or unset it.`);
  }
  return url;
}

/** The variable that replaces a service's base URL: YANDEX_DIRECT_URL, YANDEX_360_URL, … */
export function serviceVariable(name: ServiceName): string {
  return `YANDEX_${name.toUpperCase()}_URL`;
}

/** The base URL a path given to `api --for SERVICE` is resolved against: the environment's, else Yandex's. */
export function serviceBaseUrl(settings: Pick<Settings, 'serviceUrls'>, name: ServiceName): string {
  const base = environmentBaseUrl(settings, name)?.href ?? SERVICES[name].baseUrl;
  if (!base) {
    throw new UserError(`${SERVICES[name].title} has an API host per service (*.api.cloud.yandex.net): give api the whole URL, not a path.`);
  }
  return base.replace(/\/+$/, '');
}

/** Where a URL may go, and with whose headers: the service it belongs to, and whether its origin was named by the environment. */
export interface UrlService {
  service?: ServiceName;
  /** Named by YANDEX_<SERVICE>_URL: plain http is fine (an emulator, a test's server). */
  fromEnvironment: boolean;
}

/** The service whose API `url` is: an origin the environment names first, then Yandex's hosts. */
export function serviceForUrl(settings: Pick<Settings, 'serviceUrls'>, url: URL): UrlService {
  for (const name of SERVICE_NAMES) {
    const base = environmentBaseUrl(settings, name);
    if (base && base.origin === url.origin) return { service: name, fromEnvironment: true };
  }
  // As isYandexHost reads it: a trailing dot (a fully qualified name) is the same host.
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const service = SERVICE_NAMES.find((name) => {
    const { hosts, hostSuffix } = SERVICES[name];
    return hosts.includes(host) || (hostSuffix !== undefined && host.endsWith(hostSuffix));
  });
  return { service, fromEnvironment: false };
}

/** Whether the service takes an IAM token (Cloud) instead of the OAuth token. */
export function takesIamToken(name: ServiceName | undefined): boolean {
  return name !== undefined && SERVICES[name].scheme === 'iam';
}

/** The Authorization header's value for the service: OAuth, or Bearer (Direct; Cloud with its IAM token). */
export function authorization(name: ServiceName | undefined, token: string): string {
  const scheme = name === undefined ? 'OAuth' : SERVICES[name].scheme;
  return `${scheme === 'OAuth' ? 'OAuth' : 'Bearer'} ${token}`;
}

/**
 * The headers the service wants beside Authorization, from the profile's settings; throws (exit 1, naming
 * the command that sets it) when one it needs is missing. None for another Yandex host.
 */
export function extraHeaders(name: ServiceName | undefined, settings: ServiceSettings, profile: string): Record<string, string> {
  return name === undefined ? {} : (SERVICES[name].extra?.(settings, profile) ?? {});
}

/** Header-safe, bounded: what any setting's value must be before it is stored or sent. */
const HEADER_SAFE = /^[\x21-\x7e]{1,128}$/;

/** Why `value` cannot be the setting `key`, or undefined when it can. */
function badValue(key: SettingKey, value: string): string | undefined {
  if (!HEADER_SAFE.test(value)) return `A ${key} is 1 to 128 printable characters without spaces or control characters (it goes into an HTTP header).`;
  if (key === 'org-id' && !/^\d+$/.test(value)) {
    return 'An org-id is a Yandex 360 organisation\'s id: digits only, such as 1234567. A Cloud organisation\'s id (letters and digits, such as bpf3crucp1v2…) is a cloud-org-id.';
  }
  if (key === 'cloud-org-id' && !/^[A-Za-z0-9]+$/.test(value)) return 'A cloud-org-id is a Yandex Cloud organisation\'s id: letters and digits, such as bpf3crucp1v28b2ncgvt.';
  return undefined;
}

/** The key as given, checked: an unknown one lists the known ones. */
export function settingKey(key: string): SettingKey {
  if (Object.hasOwn(SETTING_KEYS, key)) return key as SettingKey;
  throw new UserError(`There is no setting "${untrusted(key, 40)}". The settings are: ${SETTING_NAMES.join(', ')}.`);
}

/** A value for `key`, checked before it is stored. */
export function checkSetting(key: SettingKey, value: string): string {
  const why = badValue(key, value);
  if (why) throw new UserError(`${why} Nothing was changed.`);
  return value;
}

/**
 * The two organisation ids exclude each other; this is the sentence when both would be set: `adding` one
 * while the profile has the other, or (undefined) both given at once.
 */
export function bothOrganisations(profile: string, adding?: 'org-id' | 'cloud-org-id'): UserError {
  const other = adding === 'cloud-org-id' ? 'org-id' : 'cloud-org-id';
  const what = adding ? `Profile "${profile}" already has ${other === 'org-id' ? 'an' : 'a'} ${other}.` : 'An org-id and a cloud-org-id were both given.';
  const fix = adding
    ? `Run \`yandex-token profile unset${profileFlag(profile)} ${other}\` first if this organisation is the one to use.`
    : 'Give the one your organisation has (Tracker\'s organisation page says which kind it is).';
  return new UserError(
    `${what} An org-id (X-Org-ID) is a Yandex 360 for Business organisation's id, a cloud-org-id (X-Cloud-Org-ID) a Yandex Cloud organisation's; Tracker takes one of them, and the wrong kind answers 403. ${fix} Nothing was changed.`,
  );
}

/**
 * A profile's settings as stored, each value checked again before it goes into a header: a hand-edited
 * file with a newline in one is refused, naming the file, rather than inject a header.
 */
export function storedSettings(all: Record<string, ServiceSettings> | undefined, profile: string, file: string): ServiceSettings {
  const settings = all && Object.hasOwn(all, profile) ? all[profile]! : {};
  for (const key of SETTING_NAMES) {
    const value = settings[SETTING_KEYS[key]];
    if (value !== undefined && badValue(key, value)) {
      throw new ConfigError(`The ${key} stored for profile "${profile}" in ${file} is not one (it was edited by hand?). Run \`yandex-token profile set${profileFlag(profile)} ${key} <value>\` again, or fix the file.`);
    }
  }
  if (settings.orgId && settings.cloudOrgId) {
    throw new ConfigError(`Profile "${profile}" has both an org-id and a cloud-org-id in ${file} (edited by hand?); Tracker takes one. Run \`yandex-token profile unset${profileFlag(profile)} <key>\` for the one that is not your organisation's.`);
  }
  return settings;
}

/** The settings as `KEY → value` pairs, in the keys' order, for show and status. */
export function settingEntries(settings: ServiceSettings): [SettingKey, string][] {
  return SETTING_NAMES.flatMap((key) => {
    const value = settings[SETTING_KEYS[key]];
    return value === undefined ? [] : [[key, value] as [SettingKey, string]];
  });
}

/** The settings as JSON shows them (profile show --json, status --json): every key, null when not set. */
export interface SettingsJson {
  clientLogin: string | null;
  orgId: string | null;
  cloudOrgId: string | null;
}

export function settingsJson(settings: ServiceSettings): SettingsJson {
  return { clientLogin: settings.clientLogin ?? null, orgId: settings.orgId ?? null, cloudOrgId: settings.cloudOrgId ?? null };
}

/** `key=value, …` for the settings that are set, for a line of text (status); empty when none is. */
export function settingsLine(settings: ServiceSettings | SettingsJson): string {
  return SETTING_NAMES.flatMap((key) => {
    const value = settings[SETTING_KEYS[key]];
    return typeof value === 'string' ? [`${key}=${value}`] : [];
  }).join(', ');
}
