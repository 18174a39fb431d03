// The temporary callback listener on the loopback interface: it knows HTTP and the OAuth redirect's
// query parameters, nothing of tokens or disk. One GET with our state ends the wait; everything else is
// answered and ignored.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { UserError, systemErrorCode } from '../errors.js';
import { CALLBACK_PAGES, pageLanguage, type Lang, type PageText } from '../page-text.js';
import { PAGE_HEADERS, escapeHtml } from '../html.js';

export interface RedirectTarget {
  /** Exactly what is sent to Yandex as redirect_uri and must be registered in the app. */
  uri: string;
  /** Loopback addresses to bind (both families for "localhost"). */
  hosts: string[];
  port: number;
  path: string;
}

export type CallbackParams =
  | { code: string }
  | { error: string; description?: string };

/** What a redirect without the login's state reported: told, never taken as the login's answer. */
export interface StrayError {
  error: string;
  description?: string;
}

/** Stray errors are told once each, and no more than this many, however often a page sends them. */
const MAX_STRAY_REPORTS = 3;

export type Page = PageText;

/** A page in the browser's language (page-text.ts holds both). */
export type LocalPage = (lang: Lang) => Page;

export interface CallbackListener {
  /** Settles on the first GET on the path with our state; rejects when the signal aborts. */
  callback: Promise<CallbackParams>;
  /** Answers the browser that brought the callback, then closes the listener and its sockets. */
  finish(page: LocalPage): Promise<void>;
  /** Closes without a result (cancel, timeout, failure). Safe to call twice. */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS: Record<string, string[]> = {
  '127.0.0.1': ['127.0.0.1'],
  localhost: ['127.0.0.1', '::1'],
  '[::1]': ['::1'],
};

export function defaultRedirectUri(port: number): string {
  return `http://127.0.0.1:${port}/callback`;
}

/** Checks a redirect URI the person registered: http, a loopback host, an explicit port. */
export function parseRedirectUri(uri: string): RedirectTarget {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UserError(`--redirect-uri "${uri}" is not a URL. Pass the exact Redirect URI registered in the app, e.g. http://127.0.0.1:8765/callback.`);
  }
  const hosts = LOOPBACK_HOSTS[url.hostname];
  if (url.protocol !== 'http:' || !hosts) {
    throw new UserError(
      `--redirect-uri must be http:// on 127.0.0.1, localhost or [::1], not "${uri}": only a loopback address can be served here. For other redirect URIs use \`login --no-localhost\` or \`login --device\`.`,
    );
  }
  if (url.port === '') {
    throw new UserError(`--redirect-uri "${uri}" needs an explicit port, e.g. http://${url.hostname}:8765${url.pathname}.`);
  }
  if (url.hash) throw new UserError(`--redirect-uri "${uri}" must not have a #fragment.`);
  return { uri, hosts, port: Number(url.port), path: url.pathname };
}

export function renderPage(page: Page, lang: Lang = 'en'): string {
  const colour = page.ok ? '#1a7f37' : '#c62828';
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>yandex-token: ${escapeHtml(page.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34em;margin:4em auto;padding:0 1em;color:#222}h1{font-size:1.4em;color:${colour}}</style>
</head><body><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.message)}</p></body></html>
`;
}

function send(res: ServerResponse, status: number, page: LocalPage, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  const lang = pageLanguage(res.req?.headers['accept-language']);
  // The page's words depend on Accept-Language: a cache must not hand one language to the other.
  res.writeHead(status, { ...PAGE_HEADERS, 'content-language': lang, vary: 'Accept-Language', connection: 'close', ...extra });
  res.end(renderPage(page(lang), lang));
}

/** One of the listener's own pages, in the request's language. */
const fixed = (key: Exclude<keyof (typeof CALLBACK_PAGES)['en'], 'loggedIn' | 'failed'>): LocalPage => (lang) => CALLBACK_PAGES[lang][key];

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** One server per host of the target (both families for "localhost"), each handing requests to `handle`. */
async function listenOnAll(target: RedirectTarget, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server[]> {
  const servers: Server[] = [];
  for (const host of target.hosts) {
    const server = createServer((req, res) => {
      try {
        handle(req, res);
      } catch {
        send(res, 500, fixed('error'));
      }
    });
    server.keepAliveTimeout = 1;
    try {
      await listenOn(server, host, target.port);
      servers.push(server);
    } catch (error) {
      // "localhost" binds both families; a machine without IPv6 lacks ::1, which is fine.
      const code = systemErrorCode(error);
      if (host === '::1' && target.hosts.length > 1 && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
      await Promise.all(servers.map(closeServer));
      throw bindError(error, host, target.port);
    }
  }
  return servers;
}

export async function listenForCallback(options: {
  target: RedirectTarget;
  state: string;
  signal?: AbortSignal;
  /**
   * Told when a GET on the path reports an error but lacks our state. Yandex may not echo state on an
   * error (yandex-oauth.md §13), so this may be Yandex's real answer; but any page could forge it, so it
   * never ends the wait.
   */
  onStrayError?: (stray: StrayError) => void;
}): Promise<CallbackListener> {
  const { target, state, signal, onStrayError } = options;
  const strayReported = new Set<string>();
  let held: ServerResponse | undefined;
  let settled = false;
  let resolveCallback!: (params: CallbackParams) => void;
  let rejectCallback!: (reason: unknown) => void;
  const callback = new Promise<CallbackParams>((resolve, reject) => {
    resolveCallback = resolve;
    rejectCallback = reject;
  });
  callback.catch(() => undefined);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://loopback');
    } catch {
      return send(res, 400, fixed('badRequest'));
    }
    if (url.pathname !== target.path) {
      return send(res, 404, fixed('notFound'));
    }
    if (req.method !== 'GET') {
      return send(res, 405, fixed('methodNotAllowed'), { allow: 'GET' });
    }
    const returned = url.searchParams.get('state');
    if (returned === null || !sameSecret(returned, state)) {
      const error = url.searchParams.get('error');
      if (error) {
        const description = url.searchParams.get('error_description') ?? undefined;
        const key = JSON.stringify([error, description]);
        if (!settled && !strayReported.has(key) && strayReported.size < MAX_STRAY_REPORTS) {
          strayReported.add(key);
          onStrayError?.({ error, description });
        }
        return send(res, 400, fixed('strayError'));
      }
      return send(res, 400, fixed('notOurs'));
    }
    if (settled) {
      return send(res, 409, fixed('alreadyAnswered'));
    }
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error) {
      settled = true;
      held = res;
      resolveCallback({ error, description: url.searchParams.get('error_description') ?? undefined });
    } else if (code) {
      settled = true;
      held = res;
      resolveCallback({ code });
    } else {
      send(res, 400, fixed('noCode'));
    }
  };

  const servers = await listenOnAll(target, handle);

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener('abort', onAbort);
    if (held) send(held, 200, fixed('stopped'));
    await Promise.all(servers.map(closeServer));
  };
  const onAbort = () => {
    rejectCallback(signal?.reason);
    void close();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  return {
    callback,
    close,
    async finish(page: LocalPage) {
      if (held) send(held, page('en').ok ? 200 : 400, page);
      held = undefined;
      await close();
    },
  };
}

function bindError(error: unknown, host: string, port: number): UserError {
  const code = systemErrorCode(error);
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new UserError(
      `Port ${port} is in use (${where}), so the login cannot listen for Yandex's redirect. Free it or pass --port (and register the matching redirect URI in the app).`,
    );
  }
  if (code === 'EACCES') {
    return new UserError(`Not allowed to listen on ${where}. Pass --port with a port above 1023 (and register the matching redirect URI).`);
  }
  return new UserError(`Cannot listen on ${where} (${code ?? String(error)}). Pass --port or --redirect-uri with another loopback address.`);
}
