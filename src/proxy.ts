// HTTPS_PROXY / HTTP_PROXY / NO_PROXY for the requests to Yandex: which proxy a URL goes through (for
// messages) and a fetch that uses it. The only importer of undici, loaded only when a request is made.
import { UserError } from './errors.js';
import type { ProxySettings, ProxyVariable } from './settings.js';

/** The proxy a request goes through, as messages name it. */
export interface ProxyRoute {
  /** Scheme, host and port only: credentials in the variable never reach a message. */
  proxy: string;
  /** The variable that named it, e.g. HTTPS_PROXY. */
  variable: string;
  /** The host that NO_PROXY would have to list to go direct. */
  host: string;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** "proxy:3128" as curl reads it: http:// is the default scheme. */
function withScheme(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
}

/** The proxy's URL, checked; an unusable value is an error naming the variable, never its credentials. */
export function parseProxy(variable: ProxyVariable): URL {
  let url: URL | undefined;
  try {
    url = new URL(withScheme(variable.value));
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new UserError(
      `${variable.name} is not a proxy address this tool can use: give it as http://host:port (or http://user:password@host:port), or unset it.`,
    );
  }
  return url;
}

/** A proxy URL without user and password, for messages. */
export function displayProxy(variable: ProxyVariable): string {
  try {
    const url = parseProxy(variable);
    return `${url.protocol}//${url.host}`;
  } catch {
    return variable.name;
  }
}

/**
 * Whether NO_PROXY sends this host direct. The same rules as undici's EnvHttpProxyAgent (which does the
 * routing), so that messages name the proxy a request really took: entries separated by commas or spaces,
 * an optional :port, a leading "." or "*." ignored, a name matching itself and its subdomains, "*" all.
 */
function bypassed(noProxy: string, url: URL): boolean {
  const value = noProxy;
  const entries = value.split(/[,\s]/).filter(Boolean);
  if (entries.length === 0) return false;
  if (value === '*') return true;
  const hostname = url.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number.parseInt(url.port, 10) || DEFAULT_PORTS[url.protocol] || 0;
  return entries.some((entry) => {
    const match = /^(.+):(\d+)$/.exec(entry);
    const name = (match ? match[1]! : entry).replace(/^\*?\./, '').toLowerCase();
    if (match && Number.parseInt(match[2]!, 10) !== port) return false;
    return hostname === name || hostname.endsWith(`.${name}`);
  });
}

/** The proxy a request to this URL goes through, or undefined when it goes direct. */
export function proxyRoute(settings: ProxySettings | undefined, target: string): ProxyRoute | undefined {
  if (!settings) return undefined;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  const variable = url.protocol === 'https:' ? (settings.https ?? settings.http) : url.protocol === 'http:' ? settings.http : undefined;
  if (!variable || bypassed(settings.noProxy, url)) return undefined;
  return { proxy: displayProxy(variable), variable: variable.name, host: url.hostname };
}

/**
 * A fetch that routes through the proxies the environment names, with undici's EnvHttpProxyAgent: Node's
 * own fetch ignores HTTPS_PROXY (before Node 24 always, after it unless NODE_USE_ENV_PROXY is set:
 * https://github.com/nodejs/node/issues/57872). The values come from Settings and are passed explicitly,
 * so undici never reads process.env itself.
 */
export async function createProxyFetch(settings: ProxySettings): Promise<typeof fetch> {
  // Validate first: a mistyped variable is one sentence, not undici's "Invalid URL".
  const http = settings.http && parseProxy(settings.http).href;
  const https = settings.https && parseProxy(settings.https).href;
  const undici = await import('undici');
  const dispatcher = new undici.EnvHttpProxyAgent({ httpProxy: http ?? '', httpsProxy: https ?? '', noProxy: settings.noProxy });
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undici.fetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}
