// `yandex-token api`: one request to a Yandex API with the authorization its host wants (services.ts),
// the answer's body streamed to stdout; a 401 renews the token once and retries once. A token goes only
// to Yandex's hosts over https, to an origin the environment names, or to a host --allow-host names.
import { readFile } from 'node:fs/promises';
import type { Context } from '../context.js';
import { CancelledError, NotLoggedInError, TerminatedError, UserError, systemErrorCode, untrusted } from '../errors.js';
import { isYandexHost, serviceBaseUrl, serviceForUrl, serviceTitle, takesIamToken, type ServiceName } from '../services.js';
import { profileSettings, serviceCredentials, type ServiceCredentials } from '../token/for-service.js';
import { open, type OpenAnswer, type RawAsk } from '../yandex/http.js';
import { requestFailure } from '../yandex/oauth.js';
import { ofProfile, profileFlag } from '../messages.js';

export interface ApiOptions {
  profile: string;
  /** The URL, or a path (/v1/disk/) resolved against `service`'s base URL; `{orgId}` in it is the profile's org-id. */
  url: string;
  /** --for: the service, when the host does not say or a path is given. */
  service?: ServiceName;
  /** -X; GET, or POST with data. */
  method?: string;
  /** -H 'Name: value', each; they replace the service's headers of the same name. */
  headers?: string[];
  /** -d: the body, @FILE, or @- for stdin. */
  data?: string;
  /** -i: the status line and headers before the body, on stdout. */
  include?: boolean;
  /** --allow-host: hosts that are not Yandex's that may have the token all the same. */
  allowHosts?: string[];
}

/** A header name as RFC 9110 allows (a token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The request's target: where it goes, and whose authorization it carries. */
interface Target {
  url: URL;
  service?: ServiceName;
}

/**
 * `{orgId}` in the URL, as Yandex 360's documentation writes its paths (/directory/v1/org/{orgId}/users):
 * the profile's org-id, as `gh api` fills in {owner} and {repo}.
 */
function withOrgId(text: string, ctx: Context, profile: string): string {
  if (!text.includes('{orgId}')) return text;
  const { orgId } = profileSettings(ctx, profile);
  if (!orgId) {
    throw new UserError(
      `The URL has {orgId}, and no org-id is set${ofProfile(profile)}, so no request was sent. Run \`yandex-token profile set${profileFlag(profile)} org-id <id>\` with your Yandex 360 organisation's id (\`yandex-token api --for 360 /directory/v1/org\` lists yours), or write the id in the URL.`,
    );
  }
  return text.replaceAll('{orgId}', orgId);
}

function target(options: ApiOptions, ctx: Context): Target {
  let url: URL;
  const given = withOrgId(options.url, ctx, options.profile);
  if (given.startsWith('/')) {
    if (!options.service) throw new UserError(`A path needs --for SERVICE to say which API it is on (--for disk, say); or give the whole URL.`);
    url = new URL(`${serviceBaseUrl(ctx.settings, options.service)}${given}`);
  } else {
    try {
      url = new URL(given);
    } catch {
      throw new UserError(`"${untrusted(options.url, 100)}" is not a URL: give the whole https://… address, or a path (/v1/disk/) with --for SERVICE.`);
    }
  }
  const found = serviceForUrl(ctx.settings, url);
  const allowed = found.fromEnvironment || (options.allowHosts ?? []).some((host) => host.toLowerCase() === url.host.toLowerCase() || host.toLowerCase() === url.hostname.toLowerCase());
  if (!allowed && !isYandexHost(url.hostname)) {
    throw new UserError(
      `${untrusted(url.host, 100)} is not a Yandex host, so no request was sent: the token must not go to a mistyped or foreign host. If you mean it, add --allow-host ${untrusted(url.host, 100)}.`,
    );
  }
  if (url.protocol !== 'https:' && !allowed) {
    throw new UserError(`api sends a token over https only, and ${untrusted(url.origin, 100)} is ${url.protocol.replace(':', '')}: use https://${untrusted(url.host, 100)}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UserError(`api speaks http(s) only, not ${untrusted(url.protocol, 20)}.`);
  return { url, service: options.service ?? found.service };
}

/** -H 'Name: value' each, checked: a value with a newline would add a header of its own. */
function userHeaders(given: string[]): [string, string][] {
  return given.map((header) => {
    const colon = header.indexOf(':');
    const name = colon > 0 ? header.slice(0, colon).trim() : '';
    if (!HEADER_NAME.test(name)) throw new UserError(`-H takes 'Name: value', and "${untrusted(header.slice(0, 40), 40)}" has no header name before a colon.`);
    const value = header.slice(colon + 1).trim();
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      throw new UserError(`The value of -H '${name}: …' has a control character (a newline?), which would add a header of its own. Nothing was sent.`);
    }
    return [name, value];
  });
}

/** -d as bytes: the text itself, a file's content (@FILE), or all of stdin (@-), read once. */
async function body(data: string | undefined, ctx: Context): Promise<Uint8Array | undefined> {
  if (data === undefined) return undefined;
  if (data === '@-') return ctx.readStdin();
  if (!data.startsWith('@')) return Buffer.from(data);
  const file = data.slice(1);
  try {
    return await readFile(file);
  } catch (error) {
    throw new UserError(`Cannot read ${file} for -d (${systemErrorCode(error) ?? String(error)}): check the path.`);
  }
}

/** JSON when the data parses as JSON, else a form: what Yandex's APIs take. */
function contentType(data: Uint8Array): string {
  try {
    JSON.parse(Buffer.from(data).toString('utf8'));
    return 'application/json';
  } catch {
    return 'application/x-www-form-urlencoded';
  }
}

/** The headers to send: the service's, then -H (which replaces one of the same name), then a Content-Type. */
function requestHeaders(credentials: ServiceCredentials, given: [string, string][], data: Uint8Array | undefined): Record<string, string> {
  const headers: Record<string, string> = { ...credentials.headers };
  for (const [name, value] of given) {
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
    headers[name] = value;
  }
  if (data !== undefined && !Object.keys(headers).some((key) => key.toLowerCase() === 'content-type')) headers['Content-Type'] = contentType(data);
  return headers;
}

export async function api(options: ApiOptions, ctx: Context): Promise<void> {
  const { url, service } = target(options, ctx);
  const given = userHeaders(options.headers ?? []);
  const method = (options.method ?? (options.data === undefined ? 'GET' : 'POST')).toUpperCase();
  if (!/^[A-Z]{1,20}$/.test(method)) throw new UserError(`-X takes an HTTP method (GET, POST, PUT, PATCH, DELETE), not "${untrusted(method, 20)}".`);
  const data = await body(options.data, ctx);
  let credentials = await serviceCredentials(ctx, options.profile, service);
  if (credentials.current?.record?.demo) throw demoToken(options.profile);
  let answer = await send(ctx, url, { method, headers: requestHeaders(credentials, given, data), body: data });
  // The caller's own Authorization, or YANDEX_TOKEN, is not ours to renew.
  const ours = !given.some(([name]) => name.toLowerCase() === 'authorization') && credentials.current?.source !== 'environment';
  const renewing = answer.status === 401 && ours;
  if (renewing) {
    answer.discard();
    credentials = await renewed(ctx, options.profile, service, credentials).catch((error: unknown) => Promise.reject(afterRefusal(error, url)));
    answer = await send(ctx, url, { method, headers: requestHeaders(credentials, given, data), body: data });
  }
  if (options.include) {
    ctx.stdout.write(`HTTP/1.1 ${answer.status} ${answer.statusText}\n${answer.headers.map(([name, value]) => `${name}: ${value}\n`).join('')}\n`);
  }
  try {
    for await (const chunk of answer.body) {
      ctx.stdout.write(chunk);
      // A reader that has gone (`api … | head`) ends the download (leaving the loop drops the connection);
      // a slow one holds it back, rather than the answer piling up in memory.
      if (ctx.stdout.ready && !(await ctx.stdout.ready())) break;
    }
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw new UserError(`The answer from ${url.origin} was cut off (${systemErrorCode(error) ?? 'the connection closed'}); what came is on stdout. Try again.`);
  }
  failure(answer, url, service, renewing);
}

/** A renewal after a 401 that failed: the same error (and exit code), saying first what started it. */
function afterRefusal(error: unknown, url: URL): unknown {
  if (!(error instanceof UserError) || error instanceof CancelledError || error instanceof TerminatedError) return error;
  const message = `${url.origin} answered HTTP 401 (the token was not accepted), and renewing the token failed: ${error.message}`;
  return error instanceof NotLoggedInError ? new NotLoggedInError(message, { cause: error }) : new UserError(message, { cause: error });
}

/** A `login --demo` token: no Yandex API takes it, and the README promises it is never sent anywhere. */
function demoToken(profile: string): NotLoggedInError {
  return new NotLoggedInError(
    `The token${ofProfile(profile)} is a demo token from the built-in emulator, not a Yandex token, so no request was sent: no Yandex API takes it. Log in with your Yandex app (\`yandex-token login${profileFlag(profile)}\`) for a real one.`,
  );
}

/**
 * The answer's status as an error: a redirect (not followed) or 400 and above; nothing for 1xx and 2xx.
 * `renewed`: the token was renewed after a first 401, so a second one is about the app's permissions.
 */
function failure(answer: OpenAnswer, url: URL, service: ServiceName | undefined, renewed: boolean): void {
  const line = `HTTP ${answer.status}${answer.statusText ? ` ${untrusted(answer.statusText, 60)}` : ''}`;
  if (answer.status >= 300 && answer.status < 400) {
    const location = answer.headers.find(([name]) => name.toLowerCase() === 'location')?.[1];
    throw new UserError(
      `${url.origin} answered ${line}${location ? `, a redirect to ${untrusted(location, 200)}` : ''}. api does not follow redirects (the token must not follow one to another host): request that URL itself.`,
    );
  }
  if (answer.status === 401 && renewed) {
    throw new UserError(`${url.origin} answered ${line} after the token was renewed: check that the app has ${service ? `${serviceTitle(service)}'s` : 'this API\'s'} permissions, and log in again if you changed them.`);
  }
  if (answer.status >= 400) throw new UserError(`${url.origin} answered ${line}.`);
}

/** One request; a failure before the answer comes is a sentence naming the host and what to check. */
async function send(ctx: Context, url: URL, ask: RawAsk): Promise<OpenAnswer> {
  // The timeout is for the answer to begin: a large download then takes as long as it takes.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), ctx.api.timeoutMs);
  try {
    return await open(url.href, ask, AbortSignal.any([ctx.signal, timeout.signal]), ctx.api.fetch);
  } catch (error) {
    throw requestFailure(error, url.href, ctx.api, timeout.signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * After a 401: the token renewed once (another run's renewal, if one happened meanwhile; else a refresh
 * under the lock, or a new IAM token for Cloud). A renewal that cannot happen says why (exit 4).
 */
async function renewed(ctx: Context, profile: string, service: ServiceName | undefined, used: ServiceCredentials): Promise<ServiceCredentials> {
  if (takesIamToken(service)) {
    const { renewIamToken } = await import('../token/iam.js');
    const iam = await renewIamToken(ctx, profile);
    const authorization = `Bearer ${iam.token}`;
    return { ...used, token: iam.token, headers: { ...used.headers, Authorization: authorization }, iamExpiresAt: iam.expiresAt };
  }
  const stored = ctx.store.get(profile);
  if (!stored || stored.accessToken === used.token) {
    // A refusal says to log in again (exit 4); Yandex out of reach is exit 1: the same errors as `refresh`.
    const { forceRefresh } = await import('../token/renew.js');
    await forceRefresh(ctx.store, ctx.api, profile, ctx.now);
  }
  return serviceCredentials(ctx, profile, service);
}
